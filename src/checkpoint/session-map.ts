import type { Session } from '../domain/session.js';
import { SessionError, isSessionError } from '../errors.js';
import type { SessionArchive } from './session-archive.js';
import { decodeRecord } from './session-record.js';
import { STATUS_LETTER, StopMarks, facetsWanted, type RecordIndex, type StatusLetter } from './record-index.js';
import type { WalkOptions, WalkableSessions, WalkedSession } from '../projections/session-query.js';
import { StatsCounter, subtractStats, type PrecountedSessions, type SessionStats } from '../projections/stats.js';

interface WalkPlace {
  next: number;
  skip: number;
}

/** A session in memory, or the index entry of its record in the archive (not read yet). */
type Slot = Session | number;

/** What the file a map was loaded from counted already. */
export interface ArchivedStats {
  /** Stats of the file's ended sessions. */
  ended: SessionStats;
  /** Stats of its Active sessions, when the file holds them (files of earlier versions do not). */
  active: SessionStats | null;
}

/**
 * The sessions of a store opened from a large sessions.json: a Map whose sessions stay in the
 * file until first asked for (`get` reads and parses that one record), so opening a store of a
 * million events costs its index, not its size, and memory holds only what is used. The map
 * itself holds only the sessions in memory: the archived ones are found through the record
 * index, which an open decodes into typed arrays, not into a Map entry per session.
 * Iterating the whole map loads every record first, so code written for a plain Map sees no
 * difference; {@link SessionMap.activeSessions} loads only the Active ones, and
 * {@link SessionMap.slots} walks every session without reading any.
 */
export class SessionMap extends Map<string, Session> implements PrecountedSessions, WalkableSessions {
  private archive: SessionArchive | null = null;
  /** Index entries below this were in the file when it was loaded or adopted: their sessions are archived. */
  private boundary = 0;
  /** Archived sessions neither read into memory nor deleted. */
  private unread = 0;
  /** Whether archived Active records may be left unread (false once they were all read). */
  private activeMayBeUnread = false;
  /** Archived sessions deleted from the map. */
  private readonly deleted = new Set<string>();
  /** Ended sessions read from the archive: they stay counted in `archivedStats.ended`. */
  private readonly loadedFromArchive = new Set<string>();
  /**
   * The live index entries of the archived sessions in memory or deleted: a session in memory
   * may have changed since its record was written (events fold into it in place), so its entry
   * no longer says what it is. Kept up to date as sessions come into memory; null: worked out
   * again at the next walk.
   */
  private overridden: Overridden | null = null;
  /** Records walks read, kept for the walks after them when {@link keepWalked} asked for it. */
  private keptWalked: KeptRecords | null = null;
  private archivedStats: ArchivedStats | null = null;
  /** Sessions that were Active in the file and have been read: counted from memory, not from the file's stats. */
  private activeRead = new StatsCounter();
  private recover: ((id: string) => Session | undefined) | null = null;

  /** Builds the map over a loaded file: every session it indexes is archived, none read yet. */
  static fromArchive(archive: SessionArchive, stats: ArchivedStats): SessionMap {
    const map = new SessionMap();
    map.archive = archive;
    map.boundary = archive.index.count;
    map.unread = archive.index.sessionCount;
    map.activeMayBeUnread = true;
    map.archivedStats = { ended: stats.ended, active: stats.active };
    if (map.unread === 0) map.release();
    return map;
  }

  override get size(): number {
    return super.size + this.unread;
  }

  override has(id: string): boolean {
    return super.has(id) || this.unreadEntry(id) !== undefined;
  }

  override get(id: string): Session | undefined {
    const session = super.get(id);
    if (session !== undefined) return session;
    const entry = this.unreadEntry(id);
    return entry === undefined ? undefined : this.load(id, entry, (i) => this.archive!.read(i));
  }

  override keys(): MapIterator<string> {
    this.loadAll();
    return super.keys();
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
    if (!super.has(id) && this.unreadEntry(id) !== undefined) this.unread -= 1;
    if (this.overridden !== null && this.archive !== null && !super.has(id)) this.overridden.add(this.archive.index, id);
    super.set(id, session);
    if (this.unread === 0) this.release();
    return this;
  }

  override clear(): void {
    super.clear();
    this.deleted.clear();
    this.overridden = null;
    this.loadedFromArchive.clear();
    this.unread = 0;
    this.archivedStats = null;
    this.release();
  }

  override delete(id: string): boolean {
    const unread = !super.has(id) && this.unreadEntry(id) !== undefined;
    const archived = this.archive !== null && this.isArchived(id);
    if (archived) this.deleted.add(id);
    this.overridden = null;
    if (unread) this.unread -= 1;
    this.loadedFromArchive.delete(id);
    const had = super.delete(id) || unread;
    if (this.unread === 0) this.release();
    return had;
  }

  /** The sessions already in memory, without reading the archive. */
  *inMemory(): Generator<Session> {
    yield* super.values();
  }

  /** Every Active session, in spawn order: the archived ones are read first (in file order), ended ones are not. */
  *activeSessions(): Generator<Session> {
    this.loadActive();
    for (const [, slot] of this.slots()) if (typeof slot !== 'number' && slot.status === 'Active') yield slot;
  }

  /**
   * Every id with its session, or the archive entry of its record when it is not read yet, in
   * spawn order, without reading the archive: the archived sessions first (they were all
   * spawned before the file was written), then the ones only in memory.
   */
  *slots(): Generator<[string, Slot]> {
    const archive = this.archive;
    if (archive !== null) {
      for (const entry of archive.index.liveEntries(this.boundary)) {
        const id = archive.index.idOf(entry);
        if (this.deleted.has(id)) continue;
        yield [id, super.get(id) ?? entry];
      }
    }
    for (const session of this.memoryOnly()) yield [session.id, session];
  }

  /**
   * Where a record that fails its checksum is answered from instead (the log, replayed up to
   * the checkpoint): the read goes on with the session as the log has it. Without it, such a
   * read throws `CORRUPT_CHECKPOINT`.
   */
  recoverWith(recover: (id: string) => Session | undefined): void {
    this.recover = recover;
  }

  /**
   * Keeps up to `count` of the records walks read (and the sessions decoded from them) for the
   * walks after, for a reader that answers the same pages again and again (the dashboard's
   * view of a store that has not changed): a page of 50 read and decoded its records anew at
   * every request, a third of its answer. The sessions are shared between walks: a caller must
   * not change them (a read-only view's callers do not).
   */
  keepWalked(count: number): void {
    this.keptWalked = new KeptRecords(count);
  }

  /**
   * Every session in spawn order (or the reverse), without keeping in memory any it had to read:
   * a walk over a store of any size holds one record at a time. `skip` passes over that many
   * sessions first without reading them; `which`, given a session's status, says whether it is
   * wanted at all (from the index's status letter, before its record is read).
   */
  *walk(options: WalkOptions = {}): Generator<WalkedSession> {
    const reverse = options.reverse === true;
    const place = { next: 0, skip: options.skip ?? 0 };
    const archive = this.archive;
    const memory = () => this.walkMemory(reverse, place, options.which);
    const archived = () => (archive === null ? [] : this.walkArchive(archive, reverse, place, options.which, options.wanted, options.keep !== false));
    // The sessions only in memory were spawned after every archived one.
    if (reverse) {
      yield* memory();
      yield* archived();
    } else {
      yield* archived();
      yield* memory();
    }
  }

  private *walkMemory(reverse: boolean, place: WalkPlace, which?: (status: Session['status']) => boolean): Generator<WalkedSession> {
    const own = this.memoryOnly();
    if (reverse) own.reverse();
    for (const session of own) {
      const position = place.next++;
      if (position < place.skip) continue;
      if (which === undefined || which(session.status)) yield { position, session };
    }
  }

  spawnRank(id: string): number | undefined {
    if (this.deleted.has(id)) return undefined;
    const first = this.archive?.index.firstOf(id);
    if (first !== undefined && first < this.boundary) return first;
    if (!super.has(id)) return undefined;
    // Spawned after the file was written: after every archived session, in the map's order.
    let rank = this.boundary;
    for (const key of super.keys()) {
      if (key === id) return rank;
      rank += 1;
    }
    return undefined;
  }

  /** The sessions that were never in the file (spawned since), in spawn order. */
  private memoryOnly(): Session[] {
    const own: Session[] = [];
    for (const [id, session] of super.entries()) if (this.archive === null || !this.isArchived(id)) own.push(session);
    return own;
  }

  private *walkArchive(archive: SessionArchive, reverse: boolean, place: WalkPlace, which: ((status: Session['status']) => boolean) | undefined, wanted: WalkOptions['wanted'], keep: boolean): Generator<WalkedSession> {
    const { index } = archive;
    const overridden = this.overriddenEntries(archive);
    // What the index can tell: the statuses wanted (by letter) and the agent, phase and issue.
    const statuses = which === undefined ? null : new Uint8Array(128);
    if (statuses !== null) for (const [status, letter] of Object.entries(STATUS_LETTER)) if (which!(status as Session['status'])) statuses[letter.charCodeAt(0)] = 1;
    const filter = { statuses, facets: wanted === undefined ? {} : facetsWanted(wanted.agent, wanted.phase, wanted.issue), stopAt: overridden.entries.size > 0 ? overridden.firsts : null };
    // Records mostly follow one another in the file, in spawn order: read in large windows.
    const reader = archive.walkReader(reverse);
    const at = { first: reverse ? this.boundary - 1 : 0, passed: 0 };
    try {
      for (let entry = index.seek(at, reverse, this.boundary, filter); entry !== -1; entry = index.seek(at, reverse, this.boundary, filter)) {
        // Only the entries of sessions in memory or deleted are looked up by id (memory decides
        // for them): the rest of a walk is the index's bytes, the entry's status and facets
        // saying what its record holds. A deleted session takes no place in the walk.
        if (overridden.entries.has(entry)) {
          const id = index.idOf(entry);
          if (this.deleted.has(id)) {
            at.passed -= 1;
            continue;
          }
          const position = place.next + at.passed - 1;
          if (position < place.skip) continue;
          const inMemory = super.get(id)!;
          if (which === undefined || which(inMemory.status)) yield { position, session: inMemory };
          continue;
        }
        const position = place.next + at.passed - 1;
        if (position < place.skip) continue;
        if (this.archive === null) throw new SessionError('CLOSED', 'the sessions.json these sessions were in is closed');
        yield this.walked(position, index.idOf(entry), entry, reader.read, archive, keep);
      }
    } finally {
      place.next += at.passed;
      // Run when the walk ends or its reader stops early (a page is full): the windows serve the next walk.
      reader.release();
    }
  }

  /** The archived sessions in memory or deleted (see {@link overridden}). */
  private overriddenEntries(archive: SessionArchive): Overridden {
    if (this.overridden !== null) return this.overridden;
    const overridden = new Overridden(archive.index.count);
    for (const id of super.keys()) overridden.add(archive.index, id);
    for (const id of this.deleted) overridden.add(archive.index, id);
    this.overridden = overridden;
    return overridden;
  }

  /** The archive, while any record is still in it. */
  get source(): SessionArchive | null {
    return this.archive;
  }

  /**
   * The stats of the archived sessions and the sessions that were never archived, for
   * {@link statsOf}: together they cover the map without reading the archive (its Active
   * records too, when the file counted them). Null without an archive.
   */
  statsParts(): { ended: SessionStats; active: SessionStats | null; others: Iterable<Session> } | null {
    if (this.archivedStats === null) return null;
    // A file of an earlier version did not count its Active sessions: they are read and counted.
    if (this.archivedStats.active === null) this.loadActive();
    const stats = this.archivedStats;
    if (stats === null) return null;
    const active = stats.active === null ? null : subtractStats(stats.active, this.activeRead.result());
    return { ended: stats.ended, active, others: this.neverArchived() };
  }

  /**
   * Points the records still archived at a new copy of the file (a checkpoint just written,
   * which holds every session of the map), and closes the old one. False, and nothing kept,
   * for a map already released.
   */
  adopt(archive: SessionArchive): boolean {
    if (this.archive === null) return false;
    this.archive.close();
    this.archive = archive;
    this.boundary = archive.index.count;
    this.deleted.clear();
    this.overridden = null;
    this.keptWalked?.clear();
    this.unread = archive.index.sessionCount - super.size;
    this.activeMayBeUnread = true;
    if (this.unread === 0) this.release();
    return true;
  }

  /**
   * Reads every archived record now (a full scan), then closes the file. The map then holds
   * every session in spawn order, as a plain Map.
   */
  loadAll(): void {
    if (this.archive === null) return;
    this.loadWhere(() => true);
  }

  /** Reads the archived records whose entries `which` picks, in file order (not spawn order, in a file written in place). */
  private loadWhere(which: (entry: number) => boolean): void {
    if (this.unread === 0) return;
    const archive = this.archive;
    if (archive === null) throw new SessionError('CLOSED', 'the sessions.json these sessions were in is closed');
    const stubs: Array<[string, number]> = [];
    for (const entry of archive.index.liveEntries(this.boundary)) {
      if (!which(entry)) continue;
      const id = archive.index.idOf(entry);
      if (!super.has(id) && !this.deleted.has(id)) stubs.push([id, entry]);
    }
    if (stubs.length === 0) return;
    const { index } = archive;
    stubs.sort((a, b) => index.startOf(a[1]) - index.startOf(b[1]));
    const read = archive.sequentialReader(stubs.map(([, entry]) => entry));
    for (const [id, entry] of stubs) this.load(id, entry, read);
  }

  /** Reads the archived Active records not read yet (the first call only walks the index). */
  private loadActive(): void {
    if (!this.activeMayBeUnread) return;
    this.loadWhere((entry) => this.archive!.statusOf(entry) === 'A');
    this.activeMayBeUnread = false;
  }

  /** The Active sessions, in no particular order, reading only the archived Active ones. */
  *activeUnordered(): Generator<Session> {
    this.loadActive();
    for (const session of super.values()) if (session.status === 'Active') yield session;
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

  /** The archive entry of an archived session not read yet (nor deleted). */
  private unreadEntry(id: string): number | undefined {
    if (this.archive === null || this.unread === 0 || super.has(id) || this.deleted.has(id)) return undefined;
    const first = this.archive.index.firstOf(id);
    return first === undefined || first >= this.boundary ? undefined : this.archive.index.liveOf(id);
  }

  /** Whether the session was in the file when it was loaded or adopted. */
  private isArchived(id: string): boolean {
    const first = this.archive?.index.firstOf(id);
    return first !== undefined && first < this.boundary;
  }

  private load(id: string, entry: number, read: (entry: number) => Buffer): Session {
    const archive = this.archive;
    if (archive === null) throw new SessionError('CLOSED', `session ${id} was in a sessions.json that is closed`);
    const session = this.decode(id, entry, read, archive);
    archive.forget(entry);
    if (archive.statusOf(entry) !== 'A') this.loadedFromArchive.add(id);
    // Counted from memory from now on: out of the file's Active stats (taken out when they are asked for).
    else this.activeRead.add(session);
    this.unread -= 1;
    super.set(id, session);
    // In memory now, where events may change it: its entry no longer speaks for it.
    this.overridden?.add(archive.index, id);
    if (this.unread === 0) this.release();
    return session;
  }

  /**
   * A walked session read from the archive: its record's bytes, checked, and the session
   * decoded from them only when it is asked for (a listing of JSON may need only the bytes).
   */
  private walked(position: number, id: string, entry: number, read: (entry: number) => Buffer, archive: SessionArchive, keep = true): WalkedSession {
    const kept = this.keptWalked?.get(entry);
    if (kept !== undefined) return kept.at(position);
    let bytes: Buffer;
    try {
      bytes = read(entry);
    } catch (error) {
      // Damaged: answered now, from the log when it can be.
      return { position, session: this.decode(id, entry, () => { throw error; }, archive) };
    }
    const walked = new ArchivedSession(position, id, bytes, STATUS_OF_LETTER[archive.statusOf(entry)], (record) => this.decode(id, entry, () => record, archive));
    // A walk of every session would push out what the pages asked for again read.
    if (keep) this.keptWalked?.keep(entry, walked);
    return walked;
  }

  /** A record's session; one that fails its checksum from `recover` when there is one. */
  private decode(id: string, entry: number, read: (entry: number) => Buffer, archive: SessionArchive): Session {
    try {
      return decodeRecord(read(entry), id, archive.path);
    } catch (error) {
      const recovered = isSessionError(error, 'CORRUPT_CHECKPOINT') ? this.recover?.(id) : undefined;
      if (recovered === undefined) throw error;
      return recovered;
    }
  }

  private *neverArchived(): Generator<Session> {
    for (const [id, session] of super.entries()) if (!this.loadedFromArchive.has(id)) yield session;
  }

  /**
   * Once nothing is left in the archive: the map becomes a plain Map of every session in spawn
   * order (records were read in file order), the file is closed, and stats are computed over the
   * map itself.
   */
  private release(): void {
    if (this.archive !== null && super.size > 0) {
      const sessions = [...this.slots()] as Array<[string, Session]>;
      super.clear();
      for (const [id, session] of sessions) super.set(id, session);
    }
    this.archive?.close();
    this.archive = null;
    this.overridden = null;
    this.keptWalked?.clear();
    this.archivedStats = null;
    this.deleted.clear();
    this.loadedFromArchive.clear();
    this.activeRead = new StatsCounter();
    this.activeMayBeUnread = false;
  }
}

/** The Active sessions in no particular order (for counting), reading only those of a {@link SessionMap}'s archive that are Active. */
export function activeSessionsUnordered(sessions: ReadonlyMap<string, Session>): Iterable<Session> {
  if (sessions instanceof SessionMap) return sessions.activeUnordered();
  return [...sessions.values()].filter((session) => session.status === 'Active');
}

/** The Active sessions, in spawn order, reading only those of a {@link SessionMap}'s archive that are Active. */
export function* activeSessionsOf(sessions: ReadonlyMap<string, Session>): Generator<Session> {
  if (sessions instanceof SessionMap) yield* sessions.activeSessions();
  else for (const session of sessions.values()) if (session.status === 'Active') yield session;
}

/** Each status by its letter in the index. */
const STATUS_OF_LETTER = Object.fromEntries(Object.entries(STATUS_LETTER).map(([status, letter]) => [letter, status])) as Record<StatusLetter, Session['status']>;

/**
 * A session a walk read from sessions.json: its record (the checked bytes and its id) at once,
 * the session decoded from them on first asking. A class, not an object literal with a getter:
 * a walk makes one for each of 250,000 sessions.
 */
class ArchivedSession implements WalkedSession {
  private decoded: Session | undefined;

  constructor(
    readonly position: number,
    readonly id: string,
    readonly bytes: Buffer,
    /** The status the index gives the record: known without decoding it. */
    readonly status: Session['status'],
    private readonly decode: (bytes: Buffer) => Session,
  ) {}

  /** The record: this object, which holds its id and bytes. */
  get record(): { id: string; bytes: Buffer } {
    return this;
  }

  get session(): Session {
    return (this.decoded ??= this.decode(this.bytes));
  }

  /** The same record met again by a later walk, at `position`: decoded once, by this one, for both. */
  at(position: number): ArchivedSession {
    return new ArchivedSession(position, this.id, this.bytes, this.status, () => this.session);
  }
}

/**
 * The archived sessions whose index entries no longer speak for them (in memory, or deleted):
 * their live entries, and a mark at each one's first entry for {@link RecordIndex.seek}, which
 * looks at every session of a walk (a Set's lookup there cost ~10 ns a session, more than the
 * rest of the look).
 */
class Overridden {
  readonly entries = new Set<number>();
  /** Marked at first entries below the count the map was built with: a walk stops before the entries written after it began (see SessionMap.boundary). */
  readonly firsts: StopMarks;

  constructor(count: number) {
    this.firsts = new StopMarks(count);
  }

  add(index: RecordIndex, id: string): void {
    const first = index.firstOf(id);
    if (first === undefined) return;
    this.entries.add(index.liveOf(id)!);
    this.firsts.mark(first);
  }
}

/** The records of an archive walks read last, by entry, at most `limit` of them (the least recently read dropped). */
class KeptRecords {
  private readonly records = new Map<number, ArchivedSession>();

  constructor(private readonly limit: number) {}

  get(entry: number): ArchivedSession | undefined {
    const kept = this.records.get(entry);
    if (kept !== undefined) {
      // Read again: the most recent now.
      this.records.delete(entry);
      this.records.set(entry, kept);
    }
    return kept;
  }

  keep(entry: number, record: ArchivedSession): void {
    this.records.set(entry, record);
    if (this.records.size > this.limit) this.records.delete(this.records.keys().next().value!);
  }

  clear(): void {
    this.records.clear();
  }
}
