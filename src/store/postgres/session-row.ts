import type { SessionEvent } from '../../events/session-event.js';

/**
 * One row of a PostgreSQL store's `sessions` table as a commit sends it: the session as the
 * projection folded it after the commit's events, in columns a query can filter, sort and sum.
 * `spawn` and `last` are 1-based places in the commit's events (the server adds them to the seq
 * it gives the first event); `spawn` is null for a session an earlier commit spawned. `search`
 * is null when no event of the commit could change it. Times are also sent as epoch
 * milliseconds, as `Date.parse` reads them, so SQL compares and sums exactly what the library does.
 */
export interface SessionRow {
  id: string;
  spawn: number | null;
  last: number;
  revision: number;
  status: string;
  agent: string;
  phase: string;
  issue: number | null;
  parent: string | null;
  retry_of: string | null;
  created_at: string;
  created_ms: number;
  ended_at: string | null;
  ended_ms: number | null;
  cost_nanos: number;
  turns: number;
  search: string | null;
}

/**
 * Whether the `search_text` column may stand for a text filter's needle: one holding a line
 * break or NUL could span two texts or lose a character there, so the query's own test alone
 * decides for it.
 */
export function searchableInSql(needle: string): boolean {
  return !/[\n\u0000]/.test(needle);
}

/**
 * How rows are computed for events the table has not folded (`catchUpSessionsTable`): from every
 * earlier event of the sessions `events` touch and of the parents they spawn under (`history`, in
 * seq order), then `events` themselves. The projection's fold, handed in: a store knows no rules.
 */
export type SessionsTableFold = (history: readonly SessionEvent[], events: readonly SessionEvent[]) => SessionRow[];
