// Drawing one frame of the scene on a 2D canvas. Only what intersects the view is drawn. Zoomed
// out (many nodes, no text), fills and strokes are batched: one path per colour or kind of mark.
// Zoomed in (few nodes, text), each node is drawn whole in order so that overlaps look right.
// Nothing is allocated per node or per link.

import { DETAIL_ZOOM, GROUP_TITLE_H, linkBend, linkVisible, minimapMap, RESIZE_GRIP, ROW_H, rectVisible, SOCKET_R, TITLE_H, type Viewport } from "./geometry";
import type { Overlay, Scene, SceneNode } from "./scene";

export interface Theme {
  readonly background: string;
  readonly grid: string;
  readonly node: string;
  readonly title: string;
  readonly text: string;
  readonly muted: string;
  readonly widget: string;
  readonly border: string;
  readonly selection: string;
  readonly ran: string;
  readonly cached: string;
  readonly running: string;
  readonly error: string;
  readonly minimap: string;
}

export interface Frame {
  readonly scene: Scene;
  readonly viewport: Viewport;
  readonly overlay: Overlay;
  readonly minimap: boolean;
}

export function drawFrame(ctx: CanvasRenderingContext2D, frame: Frame, width: number, height: number, dpr: number, theme: Theme): void {
  const { scene, viewport: v } = frame;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  const z = v.zoom;
  ctx.setTransform(dpr * z, 0, 0, dpr * z, -v.x * z * dpr, -v.y * z * dpr);
  const view = [v.x, v.y, width / z, height / z] as const;
  const detail = z >= DETAIL_ZOOM;
  const px = 1 / z; // one screen pixel in world units

  drawGroups(ctx, frame, view, theme, detail);
  drawLinks(ctx, scene, view, px);
  drawNodes(ctx, scene, view, theme, px, detail);
  drawOverlay(ctx, frame, theme, px);
  if (frame.minimap && scene.nodes.length > 0) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawMinimap(ctx, frame, width, height, theme);
  }
}

type View = readonly [number, number, number, number];

function drawGroups(ctx: CanvasRenderingContext2D, frame: Frame, view: View, theme: Theme, detail: boolean): void {
  for (const g of frame.scene.groups) {
    const [x, y, w, h] = g.bounds;
    if (!rectVisible(view, x, y, w, h)) continue;
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = g.color ?? theme.muted;
    ctx.fillRect(x, y, w, h);
    ctx.globalAlpha = 0.5;
    ctx.fillRect(x, y, w, GROUP_TITLE_H);
    ctx.globalAlpha = 1;
    if (g.selected) {
      ctx.strokeStyle = theme.selection;
      ctx.lineWidth = 2 / frame.viewport.zoom;
      ctx.strokeRect(x, y, w, h);
    }
    if (detail) {
      ctx.fillStyle = theme.text;
      ctx.font = "bold 18px system-ui, sans-serif";
      ctx.fillText(g.title, x + 10, y + 21, Math.max(10, w - 20));
    }
  }
}

function drawLinks(ctx: CanvasRenderingContext2D, scene: Scene, view: View, px: number): void {
  const a = scene.links;
  ctx.lineWidth = Math.max(2.5, px);
  for (const run of scene.linkRuns) {
    ctx.strokeStyle = run.color;
    ctx.beginPath();
    for (let i = run.start; i < run.end; i += 1) {
      const x1 = a[i * 4] as number;
      const y1 = a[i * 4 + 1] as number;
      const x2 = a[i * 4 + 2] as number;
      const y2 = a[i * 4 + 3] as number;
      if (!linkVisible(view, x1, y1, x2, y2)) continue;
      const bend = linkBend(x1, x2);
      ctx.moveTo(x1, y1);
      ctx.bezierCurveTo(x1 + bend, y1, x2 - bend, y2, x2, y2);
    }
    ctx.stroke();
  }
}

const nodeVisible = (view: View, n: SceneNode): boolean => rectVisible(view, n.x - SOCKET_R, n.y, n.w + 2 * SOCKET_R, n.h);

function outline(ctx: CanvasRenderingContext2D, scene: Scene, view: View, color: string, width: number, test: (n: SceneNode) => boolean): void {
  let any = false;
  ctx.beginPath();
  for (const n of scene.nodes) {
    if (!test(n) || !nodeVisible(view, n)) continue;
    ctx.rect(n.x - width / 2, n.y - width / 2, n.w + width, n.h + width);
    any = true;
  }
  if (!any) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.stroke();
}

const isSelected = (n: SceneNode): boolean => n.selected;
const hasError = (n: SceneNode): boolean => n.error !== "" || n.status === "failed";
const hasRan = (n: SceneNode): boolean => n.status === "ran";
const isCached = (n: SceneNode): boolean => n.status === "cached";
const isRunning = (n: SceneNode): boolean => n.status === "running";

function drawNodes(ctx: CanvasRenderingContext2D, scene: Scene, view: View, theme: Theme, px: number, detail: boolean): void {
  if (!detail) {
    drawNodesBatched(ctx, scene, view, theme, px);
    return;
  }
  // Zoomed in, few nodes are visible and they may overlap: draw each whole, in order, so that a
  // node on top hides the text of the one below.
  for (const n of scene.nodes) if (nodeVisible(view, n)) drawNode(ctx, n, theme, px);
}

/** Zoomed out, no text: every mark of one kind for all nodes goes into a single path. */
function drawNodesBatched(ctx: CanvasRenderingContext2D, scene: Scene, view: View, theme: Theme, px: number): void {
  ctx.beginPath();
  for (const n of scene.nodes) if (nodeVisible(view, n)) ctx.rect(n.x, n.y, n.w, n.h);
  ctx.fillStyle = theme.node;
  ctx.fill();
  ctx.beginPath();
  for (const n of scene.nodes) if (n.color === null && nodeVisible(view, n)) ctx.rect(n.x, n.y, n.w, TITLE_H);
  ctx.fillStyle = theme.title;
  ctx.fill();
  for (const n of scene.nodes) {
    if (n.color === null || !nodeVisible(view, n)) continue;
    ctx.fillStyle = n.color;
    ctx.fillRect(n.x, n.y, n.w, TITLE_H);
  }
  outline(ctx, scene, view, theme.border, px, () => true);
  outline(ctx, scene, view, theme.ran, 3 * px, hasRan);
  outline(ctx, scene, view, theme.cached, 3 * px, isCached);
  outline(ctx, scene, view, theme.running, 4 * px, isRunning);
  outline(ctx, scene, view, theme.error, 4 * px, hasError);
  outline(ctx, scene, view, theme.selection, 3 * px, isSelected);
  for (const n of scene.nodes) {
    if (!nodeVisible(view, n)) continue;
    if (n.mode !== 0) shade(ctx, n, theme);
    if (n.progress >= 0) progressBar(ctx, n, theme);
  }
  drawSockets(ctx, scene, view, px);
}

function shade(ctx: CanvasRenderingContext2D, n: SceneNode, theme: Theme): void {
  ctx.globalAlpha = 0.45;
  ctx.fillStyle = n.mode === 4 ? theme.cached : theme.background;
  ctx.fillRect(n.x, n.y, n.w, n.h);
  ctx.globalAlpha = 1;
}

function progressBar(ctx: CanvasRenderingContext2D, n: SceneNode, theme: Theme): void {
  ctx.fillStyle = theme.running;
  ctx.fillRect(n.x, n.y + TITLE_H - 4, n.w * n.progress, 4);
}

function statusColor(n: SceneNode, theme: Theme): string | null {
  if (hasError(n)) return theme.error;
  if (n.status === "running") return theme.running;
  if (n.status === "cached") return theme.cached;
  if (n.status === "ran") return theme.ran;
  return null;
}

function drawNode(ctx: CanvasRenderingContext2D, n: SceneNode, theme: Theme, px: number): void {
  ctx.fillStyle = theme.node;
  ctx.fillRect(n.x, n.y, n.w, n.h);
  ctx.fillStyle = n.color ?? theme.title;
  ctx.fillRect(n.x, n.y, n.w, TITLE_H);
  const status = statusColor(n, theme);
  ctx.strokeStyle = n.selected ? theme.selection : (status ?? theme.border);
  ctx.lineWidth = n.selected || status ? 3 * px : px;
  ctx.strokeRect(n.x, n.y, n.w, n.h);
  if (n.selected && status) {
    ctx.strokeStyle = status;
    ctx.lineWidth = 2 * px;
    ctx.strokeRect(n.x + 3 * px, n.y + 3 * px, n.w - 6 * px, n.h - 6 * px);
  }
  if (n.progress >= 0) progressBar(ctx, n, theme);
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.font = "bold 13px system-ui, sans-serif";
  ctx.fillStyle = theme.text;
  ctx.fillText(n.title, n.x + 10, n.y + TITLE_H / 2, n.w - 20);
  if (!n.collapsed) {
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = theme.widget;
    for (const row of n.rows) ctx.fillRect(n.x + 12, row.y + 2, n.w - 24, ROW_H - 4);
    for (const s of n.inputs) {
      if (s.widget) continue; // its widget row names it
      ctx.fillStyle = s.error ? theme.error : theme.text;
      ctx.fillText(s.name, s.x + 10, s.y, n.w / 2 - 12);
    }
    for (const row of n.rows) {
      ctx.fillStyle = row.error ? theme.error : theme.text;
      ctx.fillText(row.text, n.x + 18, row.y + ROW_H / 2, n.w - 36);
    }
    ctx.textAlign = "right";
    ctx.fillStyle = theme.text;
    for (const s of n.outputs) ctx.fillText(s.name, s.x - 10, s.y, n.w / 2 - 12);
    ctx.textAlign = "left";
    // The resize grip: a short diagonal stroke in the corner.
    ctx.strokeStyle = theme.border;
    ctx.lineWidth = px;
    ctx.beginPath();
    ctx.moveTo(n.x + n.w - RESIZE_GRIP + 3, n.y + n.h - 2);
    ctx.lineTo(n.x + n.w - 2, n.y + n.h - RESIZE_GRIP + 3);
    ctx.stroke();
  }
  for (const s of n.inputs) socket(ctx, s.x, s.y, s.color, s.error ? theme.error : null, px);
  for (const s of n.outputs) socket(ctx, s.x, s.y, s.color, null, px);
  if (n.mode !== 0) shade(ctx, n, theme);
  if (n.error !== "") {
    ctx.fillStyle = theme.error;
    ctx.fillText(`⚠ ${n.error}`, n.x, n.y + n.h + 12, Math.max(n.w, 400));
  }
}

function socket(ctx: CanvasRenderingContext2D, x: number, y: number, color: string, ring: string | null, px: number): void {
  ctx.beginPath();
  ctx.arc(x, y, SOCKET_R, 0, Math.PI * 2);
  ctx.fillStyle = color;
  ctx.fill();
  if (ring) {
    ctx.strokeStyle = ring;
    ctx.lineWidth = 2 * px;
    ctx.stroke();
  }
}

function drawSockets(ctx: CanvasRenderingContext2D, scene: Scene, view: View, px: number): void {
  const s = scene.sockets;
  const r = Math.max(SOCKET_R, 2 * px);
  for (const run of scene.socketRuns) {
    ctx.beginPath();
    for (let i = run.start; i < run.end; i += 1) {
      const x = s[i * 2] as number;
      const y = s[i * 2 + 1] as number;
      if (x < view[0] - r || x > view[0] + view[2] + r || y < view[1] - r || y > view[1] + view[3] + r) continue;
      ctx.rect(x - r, y - r, 2 * r, 2 * r); // zoomed out, squares read as dots and cost less than arcs
    }
    ctx.fillStyle = run.color;
    ctx.fill();
  }
}

function drawOverlay(ctx: CanvasRenderingContext2D, frame: Frame, theme: Theme, px: number): void {
  const { wire, box } = frame.overlay;
  if (wire) {
    const bend = linkBend(wire.x1, wire.x2);
    ctx.strokeStyle = wire.color;
    ctx.lineWidth = Math.max(3, 2 * px);
    ctx.setLineDash([8 * px, 6 * px]);
    ctx.beginPath();
    ctx.moveTo(wire.x1, wire.y1);
    ctx.bezierCurveTo(wire.x1 + bend, wire.y1, wire.x2 - bend, wire.y2, wire.x2, wire.y2);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (box) {
    ctx.globalAlpha = 0.15;
    ctx.fillStyle = theme.selection;
    ctx.fillRect(box[0], box[1], box[2], box[3]);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = theme.selection;
    ctx.lineWidth = px;
    ctx.strokeRect(box[0], box[1], box[2], box[3]);
  }
}

function drawMinimap(ctx: CanvasRenderingContext2D, frame: Frame, width: number, height: number, theme: Theme): void {
  const map = minimapMap(frame.scene.bounds, frame.viewport, width, height);
  const [mx, my, mw, mh] = map.rect;
  ctx.globalAlpha = 0.85;
  ctx.fillStyle = theme.minimap;
  ctx.fillRect(mx, my, mw, mh);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = theme.border;
  ctx.lineWidth = 1;
  ctx.strokeRect(mx, my, mw, mh);
  const s = map.scale;
  const ox = mx - map.world[0] * s;
  const oy = my - map.world[1] * s;
  ctx.beginPath();
  for (const n of frame.scene.nodes) ctx.rect(ox + n.x * s, oy + n.y * s, Math.max(1, n.w * s), Math.max(1, n.h * s));
  ctx.fillStyle = theme.title;
  ctx.fill();
  const v = frame.viewport;
  ctx.strokeStyle = theme.selection;
  ctx.lineWidth = 1.5;
  ctx.strokeRect(ox + v.x * s, oy + v.y * s, (width / v.zoom) * s, (height / v.zoom) * s);
}
