// A development and benchmark page for the editor alone, served by `vite` (not part of the
// build): /static/src/editor/harness/index.html?nodes=500&links=700. The catalog is the
// server's own object_info (testdata/object_info.json); runs are answered with the validation
// errors given in ?reject=NODE.INPUT so that the error display can be looked at without a server.
// Requests, downloads and drawn frames are recorded on `window.rxEditorHarness` for scripts.

import { makeDOMDriver } from "@cycle/dom";
import { run } from "@cycle/run";
import { withState } from "@cycle/state";
import xs, { type Stream } from "xstream";
import { Editor, type EditorDownload, type EditorHttpRequest, type EditorHttpResponse, exportWorkflow, type Frame, makeCanvasDriver, parseCatalog, syntheticGraph } from "../index";

interface HarnessLog {
  requests: EditorHttpRequest[];
  downloads: EditorDownload[];
  ready: boolean;
  /** The last frame sent to the canvas driver: scripts find sockets on screen with it. */
  frame: Frame | null;
}
const log: HarnessLog = { requests: [], downloads: [], ready: false, frame: null };
(window as unknown as { rxEditorHarness: HarnessLog }).rxEditorHarness = log;

const params = new URLSearchParams(location.search);
const nodes = Number(params.get("nodes") ?? "0");
const links = Number(params.get("links") ?? String(Math.round(nodes * 1.4)));
const reject = params.get("reject");
const objectInfo: Promise<unknown> = fetch(new URL("../testdata/object_info.json", import.meta.url)).then((r) => r.json());

function httpDriver(requests: Stream<EditorHttpRequest>): { select(category?: string): Stream<EditorHttpResponse> } {
  const responses = requests
    .map((request) => {
      log.requests.push(request);
      const answer = async (): Promise<EditorHttpResponse> => {
        if (request.category === "editor-nodes") return { category: request.category, status: 200, ok: true, body: { nodes: await objectInfo, types: {} }, error: null };
        if (request.category === "editor-run" && reject) {
          const [node, input] = reject.split(".");
          const body = { node_errors: { [node ?? ""]: { errors: [{ type: "invalid", message: "Value is not allowed", details: "", extra_info: { input_name: input } }] } } };
          return { category: request.category, status: 400, ok: false, body, error: "Invalid workflow" };
        }
        return { category: request.category, status: 201, ok: true, body: { id: "job-1", number: 1, node_errors: {} }, error: null };
      };
      return xs.fromPromise(answer());
    })
    .flatten();
  responses.addListener({});
  return { select: (category) => (category ? responses.filter((r) => r.category === category) : responses) };
}

function downloadDriver(downloads: Stream<EditorDownload>): void {
  downloads.addListener({ next: (d) => log.downloads.push(d) });
}

const canvasDriver = makeCanvasDriver();
const imports =
  nodes > 0
    ? xs.fromPromise(
        objectInfo.then((info) => {
          const catalog = parseCatalog({ nodes: info, types: {} });
          return { name: "synthetic.rxgen.json", content: JSON.stringify(exportWorkflow(syntheticGraph(catalog, nodes, links), catalog, "rxgen")) };
        }),
      )
    : xs.never();

run(withState(Editor as never), {
  DOM: makeDOMDriver("#editor"),
  canvas: (frames: Stream<Frame>) => {
    frames.addListener({ next: (frame) => (log.frame = frame) });
    return canvasDriver(frames);
  },
  HTTP: httpDriver,
  download: downloadDriver,
  imports: () => imports.debug(() => setTimeout(() => (log.ready = true), 0)),
});
if (nodes === 0) setTimeout(() => (log.ready = true), 0);
