import { describe, expect, it } from "vitest";
import type { Action } from "./actions";
import { reduce } from "./reducer";
import { isDirty, savedAnswer, savedRequest, type SavedWorkflow } from "./saved";
import { type EditorState, graphOf, initialState } from "./state";
import { catalog } from "./testkit";

const cat = catalog();
const ready = (): EditorState => reduce(initialState(), { type: "catalogLoaded", catalog: cat });
const apply = (state: EditorState, ...actions: Action[]): EditorState => actions.reduce(reduce, state);
const addImage: Action = { type: "addNode", nodeType: "EmptyImage", at: [0, 0] };

function stored(revision: number, extra: Partial<SavedWorkflow> = {}): SavedWorkflow {
  return { id: "w1", name: "flow", revision, updatedAt: "2026-01-01T00:00:00+00:00", document: documentOf(apply(ready(), addImage)), ...extra };
}

function documentOf(state: EditorState): unknown {
  const request = savedRequest({ type: "saveNamed", name: "x" }, state);
  return (request?.body as { document: unknown }).document;
}

/** A state with workflow w1 at `revision` open, as after opening it. */
const opened = (revision = 1): EditorState => reduce(ready(), { type: "workflowOpened", workflow: stored(revision) });

describe("saving", () => {
  it("asks for a name on the first save and posts the rxgen document", () => {
    const s = apply(ready(), addImage);
    expect(isDirty(s)).toBe(true);
    const asked = reduce(s, { type: "saveWorkflow" });
    expect(asked.saved.dialog).toEqual({ kind: "name", initial: "" });
    expect(savedRequest({ type: "saveWorkflow" }, asked)).toBeNull();

    const named: Action = { type: "saveNamed", name: "  my flow " };
    const request = savedRequest(named, asked);
    expect(request).toMatchObject({ category: "editor-workflow-save", url: "/api/workflows", method: "POST", body: { name: "my flow" } });
    expect((request?.body as { document: { format: string } }).document.format).toBe("rxgen.workflow");
    const saving = reduce(asked, named);
    expect(saving.saved.dialog.kind).toBe("none");
    expect(saving.saved.saving).toBe(graphOf(s));

    const done = reduce(saving, savedAnswer({ category: "editor-workflow-save", status: 201, ok: true, error: null, body: { ...stored(1, { name: "my flow", id: "new" }), updated_at: "x" } }) as Action);
    expect(done.saved.open).toEqual({ id: "new", name: "my flow", revision: 1 });
    expect(done.saved.saving).toBeNull();
    expect(isDirty(done)).toBe(false);
    expect(done.message?.text).toContain("Saved “my flow” (revision 1)");
  });

  it("puts later saves with the revision loaded, and edits made while saving stay unsaved", () => {
    const s = apply(opened(3), addImage);
    expect(isDirty(s)).toBe(true);
    expect(savedRequest({ type: "saveWorkflow" }, s)).toMatchObject({ method: "PUT", url: "/api/workflows/w1", body: { name: "flow", revision: 3 } });
    const saving = apply(s, { type: "saveWorkflow" }, addImage);
    const done = reduce(saving, { type: "workflowSaved", workflow: stored(4) });
    expect(done.saved.open?.revision).toBe(4);
    expect(isDirty(done)).toBe(true);
    expect(isDirty(apply(s, { type: "saveWorkflow" }, { type: "workflowSaved", workflow: stored(4) }))).toBe(false);
  });

  it("saves a copy under a new name", () => {
    const s = reduce(opened(), { type: "saveWorkflowAs" });
    expect(s.saved.dialog).toEqual({ kind: "name", initial: "flow (copy)" });
    expect(savedRequest({ type: "saveNamed", name: "other" }, s)?.method).toBe("POST");
  });

  it("reports a failed save and keeps the work", () => {
    const s = apply(opened(), addImage, { type: "saveWorkflow" });
    const failed = reduce(s, savedAnswer({ category: "editor-workflow-save", status: 422, ok: false, error: "not a workflow rxgen can read", body: {} }) as Action);
    expect(failed.message).toEqual({ kind: "error", text: "The workflow was not saved: not a workflow rxgen can read" });
    expect(failed.saved.saving).toBeNull();
    expect(isDirty(failed)).toBe(true);
  });
});

describe("a stale save (409)", () => {
  const conflictAnswer = { category: "editor-workflow-save", status: 409, ok: false, error: "stale revision", body: { title: "stale revision", current: { ...stored(5), updated_at: "t" } } };

  it("keeps the local edits and offers overwrite, load theirs and save as a copy", () => {
    const edited = apply(opened(3), addImage, addImage, { type: "saveWorkflow" });
    const action = savedAnswer(conflictAnswer) as Action;
    expect(action.type).toBe("workflowConflict");
    const s = reduce(edited, action);
    expect(s.saved.dialog.kind).toBe("conflict");
    expect(graphOf(s)).toBe(graphOf(edited));
    expect(s.saved.open?.revision).toBe(3);

    const overwrite: Action = { type: "overwriteSaved", id: "w1", name: "flow", revision: 5 };
    expect(savedRequest(overwrite, s)).toMatchObject({ method: "PUT", url: "/api/workflows/w1", body: { revision: 5 } });
    expect(reduce(s, overwrite).saved.dialog.kind).toBe("none");

    const theirs = reduce(s, { type: "loadTheirs" });
    expect(graphOf(theirs).order).toHaveLength(1);
    expect(theirs.saved.open?.revision).toBe(5);
    expect(isDirty(theirs)).toBe(false);

    expect(reduce(s, { type: "saveWorkflowAs" }).saved.dialog).toEqual({ kind: "name", initial: "flow (copy)" });
  });
});

describe("opening and deleting", () => {
  it("lists, opens and deletes saved workflows", () => {
    const listing = reduce(ready(), { type: "openSavedList" });
    expect(savedRequest({ type: "openSavedList" }, listing)).toEqual({ category: "editor-workflows", url: "/api/workflows" });
    expect(listing.saved.list.loading).toBe(true);
    const body = { items: [{ id: "w1", name: "flow", revision: 2, created_at: "a", updated_at: "b" }, { bad: true }], next_cursor: null };
    const listed = reduce(listing, savedAnswer({ category: "editor-workflows", status: 200, ok: true, error: null, body }) as Action);
    expect(listed.saved.list.items).toEqual([{ id: "w1", name: "flow", revision: 2, updatedAt: "b" }]);

    expect(savedRequest({ type: "openSaved", id: "w1" }, listed)).toEqual({ category: "editor-workflow-open", url: "/api/workflows/w1" });
    const open = reduce(listed, savedAnswer({ category: "editor-workflow-open", status: 200, ok: true, error: null, body: { ...stored(2), updated_at: "b" } }) as Action);
    expect(open.saved.dialog.kind).toBe("none");
    expect(open.saved.open).toEqual({ id: "w1", name: "flow", revision: 2 });
    expect(isDirty(open)).toBe(false);

    const del: Action = { type: "deleteSaved", id: "w1", name: "flow" };
    expect(savedRequest(del, open)).toEqual({ category: "editor-workflow-delete", url: "/api/workflows/w1", method: "DELETE", tag: "flow" });
    const deleted = reduce(open, savedAnswer({ category: "editor-workflow-delete", status: 204, ok: true, error: null, body: "", request: { url: "/api/workflows/w1", tag: "flow" } } as never) as Action);
    expect(deleted.saved.open).toBeNull();
    expect(deleted.message?.text).toContain("Deleted “flow”");
  });
});

describe("changes heard on the socket", () => {
  const changed = (revision: number, id = "w1"): Action => ({ type: "workflowChanged", workflowId: id, name: "flow", revision });

  it("shows a notice for a newer revision saved elsewhere, and reloads it", () => {
    const s = reduce(opened(2), changed(3));
    expect(s.saved.notice).toEqual({ kind: "newer", name: "flow", revision: 3 });
    expect(reduce(opened(2), changed(2)).saved.notice).toBeNull();
    expect(reduce(opened(2), changed(9, "other")).saved.notice).toBeNull();
    const reload: Action = { type: "reloadSaved", id: "w1" };
    expect(savedRequest(reload, s)).toEqual({ category: "editor-workflow-open", url: "/api/workflows/w1" });
    expect(reduce(s, reload).saved.notice).toBeNull();
  });

  it("does not take this tab's own save for someone else's", () => {
    const saving = apply(opened(2), addImage, { type: "saveWorkflow" });
    const heard = reduce(saving, changed(3));
    expect(heard.saved.notice).toBeNull();
    const done = reduce(heard, { type: "workflowSaved", workflow: stored(3) });
    expect(done.saved.notice).toBeNull();
    expect(reduce(done, changed(3)).saved.notice).toBeNull();
    // Another save landed right after this one: the notice comes with the answer.
    const raced = apply(saving, changed(4), { type: "workflowSaved", workflow: stored(3) });
    expect(raced.saved.notice).toEqual({ kind: "newer", name: "flow", revision: 4 });
  });

  it("says when the open workflow was deleted; the next save asks for a name", () => {
    const s = reduce(opened(2), changed(0));
    expect(s.saved.notice).toEqual({ kind: "deleted", name: "flow" });
    expect(s.saved.open).toBeNull();
    expect(reduce(s, { type: "saveWorkflow" }).saved.dialog).toEqual({ kind: "name", initial: "flow" });
  });

  it("refreshes the open list only while it is shown", () => {
    expect(savedRequest(changed(3, "x"), ready())).toBeNull();
    expect(savedRequest(changed(3, "x"), reduce(ready(), { type: "openSavedList" }))).toEqual({ category: "editor-workflows", url: "/api/workflows" });
  });
});
