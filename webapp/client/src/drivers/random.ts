// Randomness is an effect: main asks for a number under a tag and gets one back.
import xs, { type Stream } from 'xstream';

export interface RandomSource {
  select(tag: string): Stream<number>;
}

export function makeRandomDriver(random: () => number = Math.random) {
  return function randomDriver(tag$: Stream<string>): RandomSource {
    const out$ = xs.create<{ tag: string; value: number }>();
    tag$.addListener({ next: (tag) => out$.shamefullySendNext({ tag, value: random() }), error: () => undefined, complete: () => undefined });
    return { select: (tag) => out$.filter((o) => o.tag === tag).map((o) => o.value) };
  };
}
