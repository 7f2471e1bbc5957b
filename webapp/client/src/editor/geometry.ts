// Geometry shared by the reducers and the canvas driver: the viewport transform, zooming,
// culling, fitting, the minimap mapping, and hit-testing a drawn scene. Pure functions only.

import type { Rect, Vec2 } from "./model";
import type { Scene } from "./scene";

/** `x, y`: the world point at the screen's top-left corner; `zoom`: screen px per world unit. */
export interface Viewport {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 4;
export const TITLE_H = 26;
export const ROW_H = 22;
export const PAD = 6;
export const SOCKET_R = 5;
export const NODE_MIN_W = 180;
export const RESIZE_GRIP = 12;
export const GROUP_TITLE_H = 30;
export const MINIMAP_W = 200;
export const MINIMAP_H = 140;
export const MINIMAP_MARGIN = 12;
/** Below this zoom, text and widgets are not drawn (they would be unreadable anyway). */
export const DETAIL_ZOOM = 0.45;

export const toWorld = (v: Viewport, sx: number, sy: number): Vec2 => [sx / v.zoom + v.x, sy / v.zoom + v.y];
export const toScreen = (v: Viewport, wx: number, wy: number): Vec2 => [(wx - v.x) * v.zoom, (wy - v.y) * v.zoom];

export function clampZoom(zoom: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/** Zoom by `factor` keeping the world point under screen point (sx, sy) where it is. */
export function zoomAt(v: Viewport, sx: number, sy: number, factor: number): Viewport {
  const zoom = clampZoom(v.zoom * factor);
  if (zoom === v.zoom) return v;
  const [wx, wy] = toWorld(v, sx, sy);
  return { zoom, x: wx - sx / zoom, y: wy - sy / zoom };
}

export function panBy(v: Viewport, dsx: number, dsy: number): Viewport {
  return { ...v, x: v.x - dsx / v.zoom, y: v.y - dsy / v.zoom };
}

export function visibleWorld(v: Viewport, width: number, height: number): Rect {
  return [v.x, v.y, width / v.zoom, height / v.zoom];
}

/** The viewport that shows `bounds` whole, centred, with `margin` screen px around it. */
export function fitView(bounds: Rect | null, width: number, height: number, margin = 40): Viewport {
  if (!bounds || width <= 0 || height <= 0) return { x: 0, y: 0, zoom: 1 };
  const zoom = clampZoom(Math.min((width - 2 * margin) / Math.max(bounds[2], 1), (height - 2 * margin) / Math.max(bounds[3], 1), 1.5));
  return { zoom, x: bounds[0] + bounds[2] / 2 - width / 2 / zoom, y: bounds[1] + bounds[3] / 2 - height / 2 / zoom };
}

/** Centre the viewport on a world point. */
export function centerOn(v: Viewport, wx: number, wy: number, width: number, height: number): Viewport {
  return { ...v, x: wx - width / 2 / v.zoom, y: wy - height / 2 / v.zoom };
}

// --- the minimap ------------------------------------------------------------------------------

export interface MinimapMap {
  /** The minimap's rectangle on screen. */
  readonly rect: Rect;
  /** The world rectangle it shows. */
  readonly world: Rect;
  readonly scale: number;
}

/** Where the minimap sits (bottom right) and which world area it shows: the graph and the view. */
export function minimapMap(sceneBounds: Rect | null, v: Viewport, width: number, height: number): MinimapMap {
  const rect: Rect = [width - MINIMAP_W - MINIMAP_MARGIN, height - MINIMAP_H - MINIMAP_MARGIN, MINIMAP_W, MINIMAP_H];
  const view = visibleWorld(v, width, height);
  const b = sceneBounds ?? view;
  const x0 = Math.min(b[0], view[0]);
  const y0 = Math.min(b[1], view[1]);
  const x1 = Math.max(b[0] + b[2], view[0] + view[2]);
  const y1 = Math.max(b[1] + b[3], view[1] + view[3]);
  const scale = Math.min(MINIMAP_W / Math.max(x1 - x0, 1), MINIMAP_H / Math.max(y1 - y0, 1));
  // Centre the content in the minimap box.
  const w = MINIMAP_W / scale;
  const h = MINIMAP_H / scale;
  return { rect, world: [x0 - (w - (x1 - x0)) / 2, y0 - (h - (y1 - y0)) / 2, w, h], scale };
}

export function minimapToWorld(map: MinimapMap, sx: number, sy: number): Vec2 {
  return [map.world[0] + (sx - map.rect[0]) / map.scale, map.world[1] + (sy - map.rect[1]) / map.scale];
}

export const inRect = (r: Rect, x: number, y: number): boolean => x >= r[0] && y >= r[1] && x <= r[0] + r[2] && y <= r[1] + r[3];

// --- hit-testing ----------------------------------------------------------------------------

export type Hit =
  | { readonly kind: "none" }
  | { readonly kind: "minimap"; readonly world: Vec2 }
  | { readonly kind: "input"; readonly node: string; readonly input: string }
  | { readonly kind: "output"; readonly node: string; readonly slot: number }
  | { readonly kind: "node"; readonly node: string; readonly part: "title" | "body" | "resize" | "widget"; readonly input?: string }
  | { readonly kind: "group"; readonly group: string; readonly part: "title" | "body" | "resize" };

export const NO_HIT: Hit = { kind: "none" };

/**
 * What is under screen point (sx, sy): the minimap, then sockets and nodes from the top of the
 * drawing order down, then group titles and corners. Sockets get a generous radius so that they
 * stay easy to grab when zoomed out.
 */
export function hitTest(scene: Scene, v: Viewport, width: number, height: number, sx: number, sy: number, minimap = true): Hit {
  if (minimap && scene.nodes.length > 0) {
    const map = minimapMap(scene.bounds, v, width, height);
    if (inRect(map.rect, sx, sy)) return { kind: "minimap", world: minimapToWorld(map, sx, sy) };
  }
  const [wx, wy] = toWorld(v, sx, sy);
  const reach = Math.max(SOCKET_R + 3, 9 / v.zoom);
  for (let i = scene.nodes.length - 1; i >= 0; i -= 1) {
    const n = scene.nodes[i];
    if (!n) continue;
    if (wx < n.x - reach || wx > n.x + n.w + reach || wy < n.y - reach || wy > n.y + n.h + reach) continue;
    for (const s of n.outputs) {
      if (Math.abs(wx - s.x) <= reach && Math.abs(wy - s.y) <= reach) return { kind: "output", node: n.id, slot: s.slot };
    }
    for (const s of n.inputs) {
      if (Math.abs(wx - s.x) <= reach && Math.abs(wy - s.y) <= reach) return { kind: "input", node: n.id, input: s.name };
    }
    if (wx < n.x || wx > n.x + n.w || wy < n.y || wy > n.y + n.h) continue;
    if (wy <= n.y + TITLE_H) return { kind: "node", node: n.id, part: "title" };
    if (!n.collapsed && wx >= n.x + n.w - RESIZE_GRIP && wy >= n.y + n.h - RESIZE_GRIP) return { kind: "node", node: n.id, part: "resize" };
    for (const row of n.rows) {
      if (wy >= row.y && wy < row.y + ROW_H) return { kind: "node", node: n.id, part: "widget", input: row.input };
    }
    return { kind: "node", node: n.id, part: "body" };
  }
  for (let i = scene.groups.length - 1; i >= 0; i -= 1) {
    const g = scene.groups[i];
    if (!g) continue;
    const [x, y, w, h] = g.bounds;
    if (!inRect(g.bounds, wx, wy)) continue;
    if (wy <= y + GROUP_TITLE_H) return { kind: "group", group: g.id, part: "title" };
    if (wx >= x + w - RESIZE_GRIP && wy >= y + h - RESIZE_GRIP) return { kind: "group", group: g.id, part: "resize" };
  }
  return NO_HIT;
}

/** Whether a link's curve, from (x1, y1) to (x2, y2), may cross `view` (its bezier hull). */
export function linkVisible(view: Rect, x1: number, y1: number, x2: number, y2: number): boolean {
  const bend = linkBend(x1, x2);
  const minX = Math.min(x1, x2 - bend);
  const maxX = Math.max(x2, x1 + bend);
  const minY = Math.min(y1, y2);
  const maxY = Math.max(y1, y2);
  return minX <= view[0] + view[2] && maxX >= view[0] && minY <= view[1] + view[3] && maxY >= view[1];
}

/** Horizontal reach of a link's control points: wires leave outputs rightwards, enter inputs from the left. */
export function linkBend(x1: number, x2: number): number {
  return Math.max(40, Math.min(200, Math.abs(x2 - x1) * 0.5));
}

export function rectVisible(view: Rect, x: number, y: number, w: number, h: number): boolean {
  // Unrolled rather than building a Rect: the driver calls this for every node on every frame.
  return x < view[0] + view[2] && view[0] < x + w && y < view[1] + view[3] && view[1] < y + h;
}
