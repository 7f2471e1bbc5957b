// The saved-workflow bar (name, unsaved mark, Open…, Save, Save as…), the notice when the open
// workflow changed elsewhere, and the dialogs: name a new workflow, open one, resolve a stale save.
// Dialogs take the focus when they open and give it back to the bar when they close; Escape
// closes them (intent.ts).

import { h, type VNode } from "@cycle/dom";
import { actionButton } from "./nodeForm";
import { displayName, isDirty, type SavedDialog, type SavedState, type SavedSummary } from "./saved";
import type { EditorState } from "./state";

const focusFirst = (selector: string) => (vnode: VNode) => ((vnode.elm as HTMLElement).querySelector(selector) as HTMLElement | null)?.focus();
// The dialog's element is gone: put the focus back on the bar, unless it went somewhere on purpose.
const giveBackFocus = (): void => {
  queueMicrotask(() => {
    const active = document.activeElement;
    if (active === null || active === document.body) (document.querySelector(".rx-ed-file .rx-ed-file-open") as HTMLElement | null)?.focus();
  });
};

function dialog(label: string, id: string, children: (VNode | null)[], alert = false): VNode {
  return h(
    `div#${id}.rx-ed-dialog`,
    {
      attrs: { role: alert ? "alertdialog" : "dialog", "aria-modal": "true", "aria-labelledby": `${id}-title`, ...(alert ? { "aria-describedby": `${id}-text` } : {}) },
      hook: { insert: focusFirst(alert ? "button" : "input, button"), destroy: giveBackFocus },
    },
    [h(`h2#${id}-title`, label), ...children.filter((c): c is VNode => c !== null)],
  );
}

function nameDialog(initial: string): VNode {
  return dialog("Save the workflow as", "rx-ed-save-dialog", [
    h("form.rx-ed-save-form", [
      h("label", { attrs: { for: "rx-ed-save-name" } }, "Workflow name"),
      h("input#rx-ed-save-name", { attrs: { name: "name", type: "text", required: true, maxlength: 200, autocomplete: "off", value: initial } }),
      h("div.rx-ed-dialog-buttons", [
        h("button.rx-primary", { attrs: { type: "submit" } }, "Save"),
        actionButton("Cancel", { type: "closeSavedDialog" }),
      ]),
    ]),
  ]);
}

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function openDialog(list: SavedState["list"], openId: string | null): VNode {
  const items = list.items;
  const body =
    list.error !== null
      ? h("p.rx-ed-dialog-error", { attrs: { role: "alert" } }, `The list could not be loaded: ${list.error}`)
      : items.length === 0
        ? h("p", list.loading ? "Loading your saved workflows…" : "No saved workflows yet.")
        : h(
            "ul.rx-ed-saved-list",
            { attrs: { "aria-label": `${items.length} saved workflows` } },
            items.map((w: SavedSummary) =>
              h("li", [
                actionButton(w.name, { type: "openSaved", id: w.id }, { title: `Open ${w.name}` }),
                h("span.rx-ed-saved-when", `saved ${when(w.updatedAt)}${w.id === openId ? " (open)" : ""}`),
                actionButton("Delete", { type: "deleteSaved", id: w.id, name: w.name }, { title: `Delete workflow ${w.name}` }),
              ]),
            ),
          );
  return dialog("Open a saved workflow", "rx-ed-open-dialog", [body, h("div.rx-ed-dialog-buttons", [actionButton("Close", { type: "closeSavedDialog" })])]);
}

function conflictDialog(saved: SavedState, current: Extract<SavedDialog, { kind: "conflict" }>["current"]): VNode {
  const mine = saved.open?.revision;
  return dialog(
    "Saved elsewhere in the meantime",
    "rx-ed-conflict-dialog",
    [
      h(
        "p#rx-ed-conflict-dialog-text",
        `“${current.name}” was saved elsewhere: the server has revision ${current.revision}${mine === undefined ? "" : `, and your edits are based on revision ${mine}`}. ` +
          "Your changes are still here; choose what to keep.",
      ),
      h("div.rx-ed-dialog-buttons", [
        actionButton("Overwrite with mine", { type: "overwriteSaved", id: current.id, name: saved.open?.name ?? current.name, revision: current.revision }, { cls: "rx-primary" }),
        actionButton("Load theirs", { type: "loadTheirs" }, { title: "Load theirs (discard my changes)" }),
        actionButton("Save mine as a copy…", { type: "saveWorkflowAs" }),
        actionButton("Cancel", { type: "closeSavedDialog" }),
      ]),
    ],
    true,
  );
}

function notice(saved: SavedState): VNode {
  const n = saved.notice;
  const id = saved.open?.id;
  const content =
    n === null
      ? []
      : n.kind === "newer"
        ? [
            h("span", `“${n.name}” was saved elsewhere (revision ${n.revision}).`),
            id === undefined ? null : actionButton("Reload", { type: "reloadSaved", id }, { title: "Reload the newer revision (discards changes made here)" }),
            actionButton("Dismiss", { type: "dismissSavedNotice" }, { title: "Dismiss the notice" }),
          ]
        : [
            h("span", `“${n.name}” was deleted elsewhere; saving makes it a new workflow.`),
            actionButton("Dismiss", { type: "dismissSavedNotice" }, { title: "Dismiss the notice" }),
          ];
  return h("div.rx-ed-notice", { attrs: { role: "status" } }, content.filter((c): c is VNode => c !== null));
}

export function savedBar(state: EditorState): VNode {
  const saved = state.saved;
  const dirty = isDirty(state);
  const busy = saved.saving !== null;
  return h("div.rx-ed-file", [
    h("p.rx-ed-file-name", [
      h("span.visually-hidden", "Workflow: "),
      h("strong", displayName(state)),
      dirty ? h("span.rx-ed-dirty", { attrs: { title: "unsaved changes" } }, [h("span", { attrs: { "aria-hidden": "true" } }, " ●"), h("span.visually-hidden", " (unsaved changes)")]) : null,
      busy ? h("span.rx-ed-saving", " saving…") : null,
    ].filter((c): c is VNode => c !== null)),
    h("div.rx-ed-file-buttons", { attrs: { role: "group", "aria-label": "Saved workflow" } }, [
      actionButton("Open…", { type: "openSavedList" }, { title: "Open… a saved workflow", cls: "rx-ed-file-open" }),
      actionButton("Save", { type: "saveWorkflow" }, { title: saved.open ? `Save “${saved.open.name}”` : "Save to the server", disabled: busy }),
      actionButton("Save as…", { type: "saveWorkflowAs" }, { title: "Save as… a new workflow", disabled: busy }),
    ]),
    notice(saved),
  ]);
}

export function savedDialog(saved: SavedState): VNode | null {
  const d = saved.dialog;
  if (d.kind === "name") return nameDialog(d.initial);
  if (d.kind === "open") return openDialog(saved.list, saved.open?.id ?? null);
  if (d.kind === "conflict") return conflictDialog(saved, d.current);
  return null;
}
