// Test helpers: records and a page function that follows the server's paging rules
// (rxcore/log_query.py: matches in log order from a cursor "SEQ.SKIP", `limit` at most).
import type { Cursor, LogRecord } from './types';

export const rec = (seq: number, kind = 'event', name = 'nodes', value: unknown = { $t: 'm:NodeDone' }, jobs: string[] = ['job-a']): LogRecord => ({ kind, seq, name, value, jobs, users: ['1'], time: 1000 + seq });

/** A synthetic log of `last` seqs; `perSeq(seq)` gives the records of each seq (matching ones). */
export function pager(last: number, perSeq: (seq: number) => LogRecord[] = (s) => [rec(s)]) {
  let reads = 0;
  return {
    get reads(): number {
      return reads;
    },
    read(start: number, end: number | null, limit: number, cursor: Cursor | null): { items: LogRecord[]; next: string | null } {
      reads += 1;
      const items: LogRecord[] = [];
      const from = Math.max(1, cursor?.seq ?? start); // seq 0 is the header
      const stop = Math.min(end ?? last, last);
      for (let seq = from; seq <= stop; seq++) {
        const here = perSeq(seq);
        for (let i = seq === cursor?.seq ? cursor.skip : 0; i < here.length; i++) {
          if (items.length === limit) return { items, next: `${seq}.${i}` };
          items.push(here[i] as LogRecord);
        }
      }
      return { items, next: null };
    },
  };
}
