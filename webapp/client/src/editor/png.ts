// Reading the text chunks of a PNG: ComfyUI's SaveImage (and rxgen's) store the API prompt and the
// editor workflow as JSON in tEXt chunks named "prompt" and "workflow". Pure: bytes in, text out.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export class PngError extends Error {}

function decodeText(bytes: Uint8Array): string {
  try {
    // tEXt is Latin-1 by the PNG spec, but JSON writers emit ASCII or UTF-8; UTF-8 reads both.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("latin1").decode(bytes);
  }
}

/** Every tEXt chunk, and every uncompressed iTXt chunk, by keyword (the first of each wins). */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new PngError("not a PNG file (its first 8 bytes are not the PNG signature)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const texts: Record<string, string> = {};
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4] ?? 0, bytes[at + 5] ?? 0, bytes[at + 6] ?? 0, bytes[at + 7] ?? 0);
    const start = at + 8;
    const end = start + length;
    if (end + 4 > bytes.length) throw new PngError(`the PNG is truncated: chunk ${type} at byte ${at} runs past the end of the file`);
    const data = bytes.subarray(start, end);
    if (type === "tEXt") {
      const zero = data.indexOf(0);
      if (zero > 0) {
        const key = decodeText(data.subarray(0, zero));
        if (!(key in texts)) texts[key] = decodeText(data.subarray(zero + 1));
      }
    } else if (type === "iTXt") {
      readItxt(data, texts);
    } else if (type === "IEND") break;
    at = end + 4; // skip the CRC
  }
  return texts;
}

// iTXt: keyword \0 compression-flag compression-method language \0 translated-keyword \0 text.
function readItxt(data: Uint8Array, texts: Record<string, string>): void {
  const zero = data.indexOf(0);
  if (zero <= 0 || zero + 2 >= data.length) return;
  if (data[zero + 1] !== 0) return; // compressed text needs inflate; ComfyUI does not write it
  const language = data.indexOf(0, zero + 3);
  const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
  if (translated < 0) return;
  const key = decodeText(data.subarray(0, zero));
  if (!(key in texts)) texts[key] = decodeText(data.subarray(translated + 1));
}

export interface PngWorkflow {
  /** The editor-format workflow, when the PNG has one (it keeps the layout). */
  readonly workflow: unknown;
  /** The API-format prompt, when the PNG has one. */
  readonly prompt: unknown;
}

/** The `workflow` and `prompt` JSON a generated PNG carries; null when it carries neither. */
export function workflowFromPng(bytes: Uint8Array): PngWorkflow | null {
  const texts = readPngText(bytes);
  const parse = (key: string): unknown => {
    const text = texts[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new PngError(`the PNG's "${key}" text is not valid JSON`);
    }
  };
  const workflow = parse("workflow");
  const prompt = parse("prompt");
  if (workflow === undefined && prompt === undefined) return null;
  return { workflow: workflow ?? null, prompt: prompt ?? null };
}
