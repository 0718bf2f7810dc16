import { clonePlain } from '../domain/clone-plain.js';
import type { Session } from '../domain/session.js';

/** How many folded sessions a cache keeps (the least recently used go first). */
const KEPT = 10_000;

/**
 * Sessions folded from their events, kept between reads by their revision: a session is the
 * same at the same revision (its events are never rewritten), so a read that finds the row at the
 * revision kept need not fetch and fold its events again. A dashboard asks for the same pages
 * again and again, at every append; this spares each answer most of its round trip's rows. Each
 * session goes in and comes out as a copy of its own, so a caller's changes never reach it.
 */
export class FoldedSessions {
  private readonly kept = new Map<string, { revision: number; session: Session }>();

  /** The session `id` at `revision`, if kept. */
  take(id: string, revision: number): Session | undefined {
    const entry = this.kept.get(id);
    if (entry === undefined || entry.revision !== revision) return undefined;
    // Used now: last to go.
    this.kept.delete(id);
    this.kept.set(id, entry);
    return clonePlain(entry.session);
  }

  /** Keeps a session just folded. */
  keep(session: Session): void {
    this.kept.delete(session.id);
    this.kept.set(session.id, { revision: session.revision, session: clonePlain(session) });
    if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value!);
  }
}
