import type { SessionEvent } from '../../events/session-event.js';
import { SESSION_ROW_COLUMNS } from './schema.js';

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
 * `rows` as `store_session_columns` takes them: one array a column, in SESSION_ROW_COLUMNS' order.
 */
export function sessionRowColumns(rows: readonly SessionRow[]): unknown[][] {
  return SESSION_ROW_COLUMNS.map(([name]) => rows.map((row) => row[name]));
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
 * How rows are computed for events the table has not folded (`catchUpSessionsTable`), a page
 * of events at a time: the projection's fold, handed in (a store knows no rules). For each
 * page, the store asks which of the sessions it touches or names (spawned before it) the fold
 * needs the history of, reads their events up to where the table stands, and hands them over
 * with the page's events; then it says whether the page's rows were stored.
 */
export interface SessionsTableFold {
  /**
   * Of `ids`, the sessions whose events up to seq `level` (where the table stands) the fold must
   * be given: a fold may hold the others as they are at `level`, from the pages it folded before.
   */
  historyWanted(ids: readonly string[], level: number): readonly string[];
  /**
   * The rows of a page's `events`, folded on `history` (the events of the sessions asked for,
   * each session's in seq order, the sessions in any order).
   */
  rows(history: readonly SessionEvent[], events: readonly SessionEvent[]): SessionRow[];
  /** The rows last given are stored and the table stands at `seq`; or null: they were not. */
  settled(seq: number | null): void;
}
