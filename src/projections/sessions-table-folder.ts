import type { Session } from '../domain/session.js';
import type { SessionEvent } from '../events/session-event.js';
import type { SessionRow, SessionsTableFold } from '../store/postgres/session-row.js';
import { foldTouched } from './fold-touched.js';
import { rowsOfTouched } from './session-rows.js';
import { foldEachSession } from './sessions-projection.js';

/** How many sessions a folder keeps between pages (the least recently folded go first). */
const KEPT = 10_000;

/**
 * The projection's fold of a PostgreSQL store's sessions table ({@link SessionsTableFold}),
 * which keeps the Active sessions it folded for the pages after: a page's events mostly go on
 * sessions the pages before touched (an agent finishes what it started; a handoff spawns under
 * its parent), and reading their history again cost a reader that folds every few hundred
 * milliseconds a query over the events table for every page, and the fold of it.
 *
 * What it keeps stands where the table stood after its own last page. A page that starts
 * anywhere else (another process folded in between, or its page was not stored) finds the
 * folder emptied first: it then asks for every history, as a folder that kept nothing does.
 * Ended sessions are not kept: few events come after an end, and a store holds many.
 */
export class SessionsTableFolder implements SessionsTableFold {
  /** Sessions as they are where the table stands at `level`, in the order they were last folded. */
  private readonly kept = new Map<string, Session>();
  /** Where the table stood after the last page this folder's rows were stored for; null: nothing kept. */
  private level: number | null = null;
  /** The sessions a page's fold left, until the store says whether its rows were stored. */
  private pending: ReadonlyMap<string, Session> | null = null;

  historyWanted(ids: readonly string[], level: number): readonly string[] {
    if (this.level !== level) this.forget();
    this.pending = null;
    return this.kept.size === 0 ? ids : ids.filter((id) => !this.kept.has(id));
  }

  rows(history: readonly SessionEvent[], events: readonly SessionEvent[]): SessionRow[] {
    const prior = foldEachSession(history);
    // The fold copies what it starts from: what is kept stays as it was until the page is stored.
    const { touched, states } = foldTouched(events, (id) => prior.get(id) ?? this.kept.get(id));
    this.pending = states;
    return rowsOfTouched(events, touched);
  }

  settled(seq: number | null): void {
    const states = this.pending;
    this.pending = null;
    if (seq === null || states === null) {
      this.forget();
      return;
    }
    // Every session the page's fold held is as the page left it: kept again if Active, dropped if not.
    for (const [id, session] of states) {
      this.kept.delete(id);
      if (session.status === 'Active') this.kept.set(id, session);
    }
    while (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value!);
    this.level = seq;
  }

  /** How many sessions it keeps (for tests). */
  get keptCount(): number {
    return this.kept.size;
  }

  private forget(): void {
    this.kept.clear();
    this.level = null;
  }
}

const folders = new WeakMap<object, SessionsTableFolder>();

/**
 * The folder of one store object: every fold through it (each read, a manager's open and close)
 * goes on where the last left the table, so a process that reads again and again reads only
 * the history of sessions it has not met.
 */
export function sessionsTableFoldOf(store: object): SessionsTableFolder {
  let folder = folders.get(store);
  if (folder === undefined) folders.set(store, (folder = new SessionsTableFolder()));
  return folder;
}
