import { describe, expect, it } from 'vitest';
import xs from 'xstream';
import { contentOf, isPng, makeFilesDriver, MAX_FILE_BYTES, type FileContent, type FileRead } from '../drivers/files';

const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const named = (parts: BlobPart[], name: string): Blob & { name: string } => Object.assign(new Blob(parts), { name });

describe('the files driver', () => {
  it('hands PNG bytes over as bytes and JSON as text (without a byte-order mark)', () => {
    const png = new Uint8Array([...PNG_HEAD, 1, 2, 3]);
    expect(isPng(png)).toBe(true);
    expect(contentOf('a.png', png)).toEqual({ content: png });
    const json = new TextEncoder().encode('\uFEFF{"format": "rxgen.workflow"}');
    expect(contentOf('a.json', json)).toEqual({ content: '{"format": "rxgen.workflow"}' });
    expect(contentOf('ünïcode.json', new TextEncoder().encode('"é"'))).toEqual({ content: '"é"' });
  });

  it('says which file is neither a PNG nor text', () => {
    const answer = contentOf('photo.jpg', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x80, 0x81]));
    expect(answer).toEqual({ error: expect.stringMatching(/^photo\.jpg is neither a PNG image nor UTF-8 text/) });
  });

  it('reads files asked for, answers by tag, refuses huge files and empties the field', async () => {
    const read$ = xs.create<FileRead>();
    const source = makeFilesDriver()(read$);
    const got: FileContent[] = [];
    source.select('editor').addListener({ next: (c) => got.push(c) });
    const field = { value: 'C:\\fakepath\\w.json' };
    read$.shamefullySendNext({ tag: 'editor', file: named(['{"a": 1}'], 'w.json'), clear: field });
    read$.shamefullySendNext({ tag: 'other', file: named(['x'], 'x.json') });
    const huge = named([''], 'huge.json');
    Object.defineProperty(huge, 'size', { value: MAX_FILE_BYTES + 1 });
    read$.shamefullySendNext({ tag: 'editor', file: huge });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toContainEqual({ tag: 'editor', name: 'w.json', content: '{"a": 1}' });
    expect(got).toContainEqual({ tag: 'editor', name: 'huge.json', error: expect.stringMatching(/^huge\.json is 64 MB; a workflow file is at most 64 MB/) });
    expect(got).toHaveLength(2);
    expect(field.value).toBe('');
  });
});
