// Files driver: files the user picked or dropped go in (the File objects the DOM events carry),
// their contents come out. PNG files come out as bytes (their workflow is in text chunks), every
// other file as UTF-8 text. Reading a file is an effect, so it happens here and not in a screen.
import xs, { type Stream } from 'xstream';

export interface FileRead {
  /** Who asked: answers are selected by it. */
  readonly tag: string;
  readonly file: Blob & { readonly name: string };
  /** The file field it was picked with: emptied once read, so picking the same file again
   * is a change the page hears of. */
  readonly clear?: { value: string };
}

export type FileContent =
  | { readonly tag: string; readonly name: string; readonly content: string | Uint8Array }
  | { readonly tag: string; readonly name: string; readonly error: string };

export interface FileSource {
  select(tag: string): Stream<FileContent>;
}

/** Workflows are small; anything bigger is a mistaken pick, refused before reading it. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export const isPng = (bytes: Uint8Array): boolean => bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);

/** A file's bytes as the editor takes them: PNG bytes as they are, anything else decoded as
 * UTF-8 text (a byte-order mark dropped), or an error line when it is neither. */
export function contentOf(name: string, bytes: Uint8Array): { content: string | Uint8Array } | { error: string } {
  if (isPng(bytes)) return { content: bytes };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { content: text.startsWith('\uFEFF') ? text.slice(1) : text };
  } catch {
    return { error: `${name} is neither a PNG image nor UTF-8 text; open a workflow saved as JSON or a PNG made by rxgen or ComfyUI` };
  }
}

export async function readFile(request: FileRead): Promise<FileContent> {
  const { tag, file } = request;
  if (file.size > MAX_FILE_BYTES) {
    return { tag, name: file.name, error: `${file.name} is ${Math.round(file.size / 1048576)} MB; a workflow file is at most ${MAX_FILE_BYTES / 1048576} MB` };
  }
  try {
    const answer = contentOf(file.name, new Uint8Array(await file.arrayBuffer()));
    return { tag, name: file.name, ...answer };
  } catch (error) {
    return { tag, name: file.name, error: `${file.name} could not be read (${String(error)})` };
  }
}

export function makeFilesDriver() {
  return function filesDriver(read$: Stream<FileRead>): FileSource {
    const content$ = xs.create<FileContent>();
    read$.addListener({
      next: (request) => {
        void readFile(request).then((answer) => {
          if (request.clear !== undefined) request.clear.value = '';
          content$.shamefullySendNext(answer);
        });
      },
      error: () => undefined,
      complete: () => undefined,
    });
    return { select: (tag) => content$.filter((c) => c.tag === tag) };
  };
}
