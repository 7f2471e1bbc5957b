// Mask driver: composes an uploaded image and the strokes painted over it into one RGBA PNG
// whose painted pixels are transparent (LoadImage reads 1 - alpha as the mask).
import xs, { type Stream } from 'xstream';

export interface Stroke {
  readonly size: number; // brush diameter in image pixels
  readonly points: readonly (readonly [number, number])[]; // image pixels
}

export interface MaskRequest {
  readonly tag: string;
  readonly imageUrl: string;
  readonly strokes: readonly Stroke[];
}

export type MaskResult = { readonly tag: string; readonly blob: Blob } | { readonly tag: string; readonly error: string };

async function compose(request: MaskRequest): Promise<Blob> {
  const image = new Image();
  image.src = request.imageUrl;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const g = canvas.getContext('2d');
  if (g === null) throw new Error('this browser gives no 2D canvas');
  g.drawImage(image, 0, 0);
  g.globalCompositeOperation = 'destination-out';
  g.lineCap = 'round';
  g.lineJoin = 'round';
  for (const stroke of request.strokes) {
    g.lineWidth = stroke.size;
    g.beginPath();
    stroke.points.forEach(([x, y], i) => (i === 0 ? g.moveTo(x, y) : g.lineTo(x, y)));
    if (stroke.points.length === 1) {
      const [x, y] = stroke.points[0] ?? [0, 0];
      g.lineTo(x + 0.01, y);
    }
    g.stroke();
  }
  return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b === null ? reject(new Error('PNG encoding failed')) : resolve(b)), 'image/png'));
}

export function makeMaskDriver() {
  return function maskDriver(request$: Stream<MaskRequest>): Stream<MaskResult> {
    const out$ = xs.create<MaskResult>();
    request$.addListener({
      next: (request) => {
        compose(request).then(
          (blob) => out$.shamefullySendNext({ tag: request.tag, blob }),
          (error: unknown) => out$.shamefullySendNext({ tag: request.tag, error: `could not build the mask: ${String(error)}` }),
        );
      },
      error: () => undefined,
      complete: () => undefined,
    });
    return out$;
  };
}
