// Storage driver: writes to localStorage (kept across visits) or sessionStorage (kept across
// reloads of this tab) go in; what was stored comes out when asked for by key.
import xs, { type MemoryStream, type Stream } from 'xstream';

export type Area = 'local' | 'session';
export interface StorageWrite {
  readonly area: Area;
  readonly key: string;
  readonly value: string | null; // null removes the key
}

export interface StorageSource {
  /** The stored value now and after every write to it through this driver. */
  get(area: Area, key: string): MemoryStream<string | null>;
}

function area(name: Area): Storage | null {
  try {
    return name === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return null; // storage disabled by the browser's settings: behave as empty
  }
}

export function makeStorageDriver(pick: (name: Area) => Storage | null = area) {
  return function storageDriver(write$: Stream<StorageWrite>): StorageSource {
    const written$ = xs.create<StorageWrite>();
    write$.addListener({
      next: (write) => {
        const store = pick(write.area);
        try {
          if (write.value === null) store?.removeItem(write.key);
          else store?.setItem(write.key, write.value);
        } catch {
          // quota exceeded: the value is lost for the next visit, not for this one
        }
        written$.shamefullySendNext(write);
      },
      error: () => undefined,
      complete: () => undefined,
    });
    return {
      get(name, key) {
        const initial = pick(name)?.getItem(key) ?? null;
        return written$
          .filter((w) => w.area === name && w.key === key)
          .map((w) => w.value)
          .startWith(initial);
      },
    };
  };
}
