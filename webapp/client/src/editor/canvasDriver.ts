// The canvas driver: draws the frames main sends (at most one per animation frame) on the canvas
// the editor's view renders, and reports hit-tested pointer, wheel, key and resize intents.
// It decides nothing: what a click means is main's business.

import xs, { type Stream } from "xstream";
import { drawFrame, type Frame, type Theme } from "./draw";
import { type Hit, hitTest, NO_HIT } from "./geometry";

export type CanvasIntent =
  | { readonly kind: "pointerdown" | "pointermove" | "pointerup" | "dblclick"; readonly sx: number; readonly sy: number; readonly button: number; readonly shift: boolean; readonly ctrl: boolean; readonly alt: boolean; readonly hit: Hit }
  | { readonly kind: "wheel"; readonly sx: number; readonly sy: number; readonly dx: number; readonly dy: number; readonly ctrl: boolean }
  | { readonly kind: "key"; readonly key: string; readonly ctrl: boolean; readonly shift: boolean; readonly alt: boolean }
  | { readonly kind: "resize"; readonly width: number; readonly height: number };

export interface CanvasSource {
  readonly intents: Stream<CanvasIntent>;
}

export interface CanvasDriverOptions {
  /** How to find the canvas the view renders. */
  readonly selector?: string;
}

export const CANVAS_SELECTOR = "canvas.rx-editor-canvas";
/** The canvas element's read-only property holding the frame drawn last. */
export const FRAME_PROPERTY = "rxFrame";

// Keys whose browser default (scrolling, going back) must not fire while the canvas has focus.
const SWALLOWED = new Set([" ", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Backspace", "Delete", "+", "-", "=", ".", "[", "]"]);

const DARK: Theme = { background: "#1b1d21", grid: "#25282d", node: "#2c3036", title: "#3a4049", text: "#e8eaed", muted: "#6b7280", widget: "#22252a", border: "#555c66", selection: "#f5c542", ran: "#3fb950", cached: "#58a6ff", running: "#f0b429", error: "#ff6b6b", minimap: "#14161a" };
const LIGHT: Theme = { background: "#f3f4f6", grid: "#e5e7eb", node: "#ffffff", title: "#dfe3ea", text: "#111827", muted: "#9ca3af", widget: "#f1f3f6", border: "#9aa3af", selection: "#b45309", ran: "#1a7f37", cached: "#0969da", running: "#9a6700", error: "#c62828", minimap: "#ffffff" };

function readTheme(canvas: HTMLCanvasElement): Theme {
  const dark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  const base = dark ? DARK : LIGHT;
  const style = getComputedStyle(canvas);
  const pick = (name: keyof Theme): string => style.getPropertyValue(`--rx-editor-${name}`).trim() || base[name];
  const theme = {} as Record<keyof Theme, string>;
  for (const key of Object.keys(base) as (keyof Theme)[]) theme[key] = pick(key);
  return theme;
}

export function makeCanvasDriver(options: CanvasDriverOptions = {}): (sink: Stream<Frame>) => CanvasSource {
  const selector = options.selector ?? CANVAS_SELECTOR;
  return (sink) => {
    let frame: Frame | null = null;
    let canvas: HTMLCanvasElement | null = null;
    let ctx: CanvasRenderingContext2D | null = null;
    let theme = LIGHT;
    let width = 0;
    let height = 0;
    let dpr = 1;
    let scheduled = false;
    // Whether something changed since the last draw: a new frame, a resize, a theme change.
    let dirty = true;
    let emit: (intent: CanvasIntent) => void = () => undefined;
    let detach: () => void = () => undefined;

    const hitAt = (sx: number, sy: number): Hit => (frame ? hitTest(frame.scene, frame.viewport, width, height, sx, sy, frame.minimap) : NO_HIT);
    const pointer = (kind: "pointerdown" | "pointermove" | "pointerup" | "dblclick", e: MouseEvent): CanvasIntent => {
      const box = (e.currentTarget as HTMLElement | null)?.getBoundingClientRect() ?? canvas?.getBoundingClientRect();
      const sx = e.clientX - (box?.left ?? 0);
      const sy = e.clientY - (box?.top ?? 0);
      return { kind, sx, sy, button: e.button, shift: e.shiftKey, ctrl: e.ctrlKey || e.metaKey, alt: e.altKey, hit: hitAt(sx, sy) };
    };

    const resize = (): void => {
      if (!canvas) return;
      const rect = canvas.getBoundingClientRect();
      dpr = window.devicePixelRatio || 1;
      width = Math.max(1, Math.round(rect.width));
      height = Math.max(1, Math.round(rect.height));
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      theme = readTheme(canvas);
      emit({ kind: "resize", width, height });
      dirty = true;
      schedule();
    };

    const attach = (element: HTMLCanvasElement): void => {
      detach();
      canvas = element;
      ctx = element.getContext("2d");
      // Read-only: what this canvas shows (scene in world coordinates, viewport), for browser
      // tests and benchmarks that must find a socket on screen. It grants nothing a page script
      // could not already work out from the DOM.
      Object.defineProperty(element, FRAME_PROPERTY, { configurable: true, get: () => frame });
      const down = (e: PointerEvent): void => {
        element.focus({ preventScroll: true });
        try {
          element.setPointerCapture(e.pointerId);
        } catch {
          // Synthetic events (tests, benchmarks) have no active pointer to capture.
        }
        emit(pointer("pointerdown", e));
      };
      // Browsers already deliver at most one pointermove per frame (coalesced events), and the
      // state reaches us in a microtask: emitting at once gets the move drawn in the next frame.
      const move = (e: PointerEvent): void => emit(pointer("pointermove", e));
      const up = (e: PointerEvent): void => emit(pointer("pointerup", e));
      const dbl = (e: MouseEvent): void => emit(pointer("dblclick", e));
      const wheel = (e: WheelEvent): void => {
        e.preventDefault();
        const box = element.getBoundingClientRect();
        const scale = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? height : 1;
        emit({ kind: "wheel", sx: e.clientX - box.left, sy: e.clientY - box.top, dx: e.deltaX * scale, dy: e.deltaY * scale, ctrl: e.ctrlKey || e.metaKey });
      };
      const key = (e: KeyboardEvent): void => {
        if (SWALLOWED.has(e.key) || ((e.ctrlKey || e.metaKey) && "zyxcvag".includes(e.key.toLowerCase()))) e.preventDefault();
        emit({ kind: "key", key: e.key, ctrl: e.ctrlKey || e.metaKey, shift: e.shiftKey, alt: e.altKey });
      };
      const menu = (e: Event): void => e.preventDefault();
      element.addEventListener("pointerdown", down);
      element.addEventListener("pointermove", move);
      element.addEventListener("pointerup", up);
      element.addEventListener("pointercancel", up);
      element.addEventListener("dblclick", dbl);
      element.addEventListener("wheel", wheel, { passive: false });
      element.addEventListener("keydown", key);
      element.addEventListener("contextmenu", menu);
      const observer = typeof ResizeObserver === "function" ? new ResizeObserver(resize) : null;
      observer?.observe(element);
      const scheme = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
      const rescheme = (): void => {
        theme = readTheme(element);
        dirty = true;
        schedule();
      };
      scheme?.addEventListener("change", rescheme);
      detach = () => {
        element.removeEventListener("pointerdown", down);
        element.removeEventListener("pointermove", move);
        element.removeEventListener("pointerup", up);
        element.removeEventListener("pointercancel", up);
        element.removeEventListener("dblclick", dbl);
        element.removeEventListener("wheel", wheel);
        element.removeEventListener("keydown", key);
        element.removeEventListener("contextmenu", menu);
        observer?.disconnect();
        scheme?.removeEventListener("change", rescheme);
        canvas = null;
        ctx = null;
      };
      resize();
    };

    let retry: ReturnType<typeof setTimeout> | null = null;
    const findCanvas = (): boolean => {
      if (canvas?.isConnected) return true;
      const found = document.querySelector(selector);
      if (found instanceof HTMLCanvasElement) {
        attach(found);
        return true;
      }
      // The DOM driver renders the canvas after main's first frame: look again shortly.
      if (retry === null) {
        retry = setTimeout(() => {
          retry = null;
          schedule();
        }, 100);
      }
      return false;
    };

    const draw = (): void => {
      scheduled = false;
      if (!findCanvas() || !dirty) return;
      dirty = false;
      if (frame && ctx) drawFrame(ctx, frame, width, height, dpr, theme);
    };

    function schedule(): void {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(draw);
    }

    sink.addListener({
      next: (next) => {
        frame = next;
        dirty = true;
        schedule();
      },
      error: () => undefined,
      complete: () => detach(),
    });

    const intents = xs.create<CanvasIntent>({
      start: (listener) => {
        emit = (intent) => listener.next(intent);
        schedule();
      },
      stop: () => {
        emit = () => undefined;
      },
    });
    return { intents };
  };
}
