import type { Session } from '../domain/session.js';
import { SessionError } from '../errors.js';
import type { SessionArchive } from './session-archive.js';
import { decodeRecord } from './session-record.js';
import type { PrecountedSessions, SessionStats } from '../projections/stats.js';

/** A session in memory, or the index of its record in the archive (not read yet). */
type Slot = Session | number;

/**
 * The sessions of a store opened from a large sessions.json: a Map whose sessions stay in the
 * file until first asked for (`get` reads and parses that one record), so opening a store of a
 * million events costs its index, not its size, and memory holds only what is used. Iterating
 * the whole map loads every record first, so code written for a plain Map sees no difference;
 * {@link SessionMap.activeSessions} loads only the Active ones.
 */
export class SessionMap extends Map<string, Session> implements PrecountedSessions {
  private archive: SessionArchive | null = null;
  private stubs = 0;
  private readonly loadedFromArchive = new Set<string>();
  /** Stats of the file's ended sessions (all archived at load; they stay counted here once read). */
  private archivedStats: SessionStats | null = null;

  /**
   * Builds the map from a loaded file: `slots` in spawn order, each a session or the archive
   * entry of its record; `archivedStats` are the stats of exactly the archived ended ones.
   */
  static fromArchive(archive: SessionArchive, slots: Iterable<[string, Slot]>, archivedStats: SessionStats): SessionMap {
    const map = new SessionMap();
    for (const [id, slot] of slots) {
      map.setSlot(id, slot);
      if (typeof slot === 'number') map.stubs += 1;
    }
    map.archive = archive;
    map.archivedStats = archivedStats;
    if (map.stubs === 0) map.release();
    return map;
  }

  override get(id: string): Session | undefined {
    const slot = super.get(id) as Slot | undefined;
    return typeof slot === 'number' ? this.load(id, slot, (i) => this.archive!.read(i)) : slot;
  }

  override values(): MapIterator<Session> {
    this.loadAll();
    return super.values();
  }

  override entries(): MapIterator<[string, Session]> {
    this.loadAll();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, Session]> {
    return this.entries();
  }

  override forEach(callback: (value: Session, key: string, map: Map<string, Session>) => void, thisArg?: unknown): void {
    this.loadAll();
    super.forEach(callback, thisArg);
  }

  override set(id: string, session: Session): this {
    if (typeof super.get(id) === 'number') this.stubs -= 1;
    return super.set(id, session);
  }

  override clear(): void {
    super.clear();
    this.loadedFromArchive.clear();
    this.stubs = 0;
    this.archivedStats = null;
    this.release();
  }

  override delete(id: string): boolean {
    if (typeof super.get(id) === 'number') this.stubs -= 1;
    this.loadedFromArchive.delete(id);
    return super.delete(id);
  }

  /** The sessions already in memory, in spawn order, without reading the archive. */
  *inMemory(): Generator<Session> {
    for (const slot of super.values() as Iterable<Slot>) if (typeof slot !== 'number') yield slot;
  }

  /** Every Active session, in spawn order: the archived ones are read first (in file order), ended ones are not. */
  *activeSessions(): Generator<Session> {
    this.loadWhere((entry) => this.archive!.statusOf(entry) === 'A');
    for (const session of this.inMemory()) if (session.status === 'Active') yield session;
  }

  /** Every id with its session or archive index, in spawn order, without reading the archive. */
  slots(): Iterable<[string, Slot]> {
    return super.entries() as Iterable<[string, Slot]>;
  }

  /** The archive, while any record is still in it. */
  get source(): SessionArchive | null {
    return this.archive;
  }

  /**
   * The stats of the archived sessions and the sessions that were never archived, for
   * {@link statsOf}: together they cover the map without reading the archive. Null without an archive.
   */
  statsParts(): { archived: SessionStats; others: Iterable<Session> } | null {
    if (this.archivedStats === null) return null;
    // Active sessions change, so their stats are never stored: they are counted from memory.
    this.loadWhere((entry) => this.archive!.statusOf(entry) === 'A');
    return this.archivedStats === null ? null : { archived: this.archivedStats, others: this.neverArchived() };
  }

  /**
   * Points the records still archived at a new copy of the file (a checkpoint just written),
   * whose indexes `moved` gives, and closes the old one. A map already released keeps nothing.
   */
  adopt(archive: SessionArchive, moved: ReadonlyMap<string, number>): boolean {
    if (this.archive === null) return false;
    for (const [id, slot] of this.slots()) {
      if (typeof slot === 'number') this.setSlot(id, moved.get(id)!);
    }
    this.archive.close();
    this.archive = archive;
    return true;
  }

  /** Reads every archived record now (a full scan, the CLI), then closes the file. */
  loadAll(): void {
    this.loadWhere(() => true);
  }

  /** Reads the archived records whose entries `which` picks, in file order (not spawn order, in a file written in place). */
  private loadWhere(which: (entry: number) => boolean): void {
    if (this.stubs === 0) return;
    if (this.archive === null) throw new SessionError('CLOSED', 'the sessions.json these sessions were in is closed');
    const stubs: Array<[string, number]> = [];
    for (const [id, slot] of this.slots()) if (typeof slot === 'number' && which(slot)) stubs.push([id, slot]);
    if (stubs.length === 0) return;
    const { index } = this.archive;
    stubs.sort((a, b) => index.startOf(a[1]) - index.startOf(b[1]));
    const read = this.archive.sequentialReader();
    for (const [id, slot] of stubs) this.load(id, slot, read);
  }

  /** Closes the archive file unread, for a map that is thrown away: its archived sessions are gone. */
  discard(): void {
    this.archive?.close();
    this.archive = null;
  }

  /** Closes the archive file; records not read yet are read first, so nothing is lost. */
  close(): void {
    this.loadAll();
    this.release();
  }

  private load(id: string, index: number, read: (index: number) => Buffer): Session {
    if (this.archive === null) throw new SessionError('CLOSED', `session ${id} was in a sessions.json that is closed`);
    const session = decodeRecord(read(index), id, this.archive!.path);
    this.archive.forget(index);
    this.setSlot(id, session);
    // An ended record stays counted in the stored stats; an Active one was never in them.
    if (this.archive.statusOf(index) !== 'A') this.loadedFromArchive.add(id);
    this.stubs -= 1;
    if (this.stubs === 0) this.release();
    return session;
  }

  private *neverArchived(): Generator<Session> {
    for (const [id, slot] of this.slots()) if (typeof slot !== 'number' && !this.loadedFromArchive.has(id)) yield slot;
  }

  private setSlot(id: string, slot: Slot): void {
    // A stub is stored as its index; every read of the map goes through `get` or `slots`.
    Map.prototype.set.call(this, id, slot);
  }

  /** Once nothing is left in the archive: close the file; stats are then computed over the map itself. */
  private release(): void {
    this.archive?.close();
    this.archive = null;
    this.archivedStats = null;
    this.loadedFromArchive.clear();
  }
}

/** The Active sessions, in spawn order, reading only those of a {@link SessionMap}'s archive that are Active. */
export function* activeSessionsOf(sessions: ReadonlyMap<string, Session>): Generator<Session> {
  if (sessions instanceof SessionMap) yield* sessions.activeSessions();
  else for (const session of sessions.values()) if (session.status === 'Active') yield session;
}
