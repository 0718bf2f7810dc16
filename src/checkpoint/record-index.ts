import { SessionError } from '../errors.js';
import { PHASES } from '../domain/phase.js';
import type { Session } from '../domain/session.js';

/** The status letters a record index keeps: A(ctive), H(andedOff), C(ompleted), F(ailed). */
export type StatusLetter = 'A' | 'H' | 'C' | 'F';

/** Each status's letter in an index entry. */
export const STATUS_LETTER = { Active: 'A', HandedOff: 'H', Completed: 'C', Failed: 'F' } as const satisfies Record<Session['status'], StatusLetter>;

/**
 * Bytes of one entry in the index file: id (36), start (6), length (4), CRC-32 (4), status (1),
 * facets (agent 4, phase 1, issue 4), newline (1).
 */
export const INDEX_ENTRY_BYTES = 61;

/**
 * What a filter by agent, phase or issue can tell from an index entry, without reading the
 * record: the agent name's FNV-1a hash, the phase's place in PHASES, the issue number (0 for
 * none). A match is necessary, not sufficient (two names may share a hash): the record decides.
 * A value the entry cannot hold is stored as "any" (phase 255, issue 0xffffffff).
 */
export interface Facets {
  agent: number;
  phase: number;
  issue: number;
}

const ANY_PHASE = 0xff;
const ANY_ISSUE = 0xffffffff;
/** {@link ANY_ISSUE} as a signed 32-bit word, as the issue column holds it. */
const ANY_ISSUE_WORD = ANY_ISSUE | 0;

const ID_BYTES = 36;
const NONE = -1;

/** What {@link RecordIndex.seek} looks for. */
export interface EntryFilter {
  /** 1 at the char code of each status letter wanted; null for any. */
  statuses: Uint8Array | null;
  facets: Partial<Facets>;
  /** The sessions to stop at whatever their entries hold (they are decided elsewhere); null for none. */
  stopAt: StopMarks | null;
}

/**
 * Sessions a seek block covers, by first entry (2^BLOCK_SHIFT): a seek for a facet passes a
 * whole block at once when no session in it can have that facet.
 */
const BLOCK_SHIFT = 6;
const BLOCK = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK - 1;

/**
 * The sessions a seek must stop at whatever its filter says, marked at their first entries, and
 * the blocks that hold any (a seek never passes such a block whole).
 */
export class StopMarks {
  readonly marks: Uint8Array;
  readonly blocks: Uint8Array;

  /** Marks for the first entries below `count`: a session first seen later is never marked. */
  constructor(count: number) {
    this.marks = new Uint8Array(count);
    this.blocks = new Uint8Array((count >> BLOCK_SHIFT) + 1);
  }

  /** Marks the session whose first entry is `first`. */
  mark(first: number): void {
    if (first >= this.marks.length) return;
    this.marks[first] = 1;
    this.blocks[first >> BLOCK_SHIFT] = 1;
  }
}

/** One record's place in sessions.json. */
export interface IndexEntry {
  id: string;
  start: number;
  length: number;
  crc: number;
  status: StatusLetter;
  facets: Facets;
}

/** The facets of a session, as its index entry keeps them. */
export function facetsOf(session: Session): Facets {
  return facetsWanted(session.agentName, session.context.currentPhase, session.context.issueNumber ?? 0) as Facets;
}

/** The facets a filter asks for (each left out when not asked), as an entry spells them. */
export function facetsWanted(agent: string | undefined, phase: string | undefined, issue: number | undefined): Partial<Facets> {
  const wanted: Partial<Facets> = {};
  if (agent !== undefined) wanted.agent = hashText(agent);
  if (phase !== undefined) {
    const place = (PHASES as readonly string[]).indexOf(phase);
    wanted.phase = place === -1 ? ANY_PHASE : place;
  }
  if (issue !== undefined) wanted.issue = issue >= 0 && issue < ANY_ISSUE ? issue : ANY_ISSUE;
  return wanted;
}

/** FNV-1a over a string's UTF-16 code units. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < text.length; k += 1) hash = Math.imul(hash ^ text.charCodeAt(k), 0x01000193);
  return hash >>> 0;
}

const LETTER_CODES = new Set(['A', 'H', 'C', 'F'].map((letter) => letter.charCodeAt(0)));

/**
 * Where the records of sessions.json lie: an append-only list of entries (a session's record
 * was written at `start`, `length` bytes, with this CRC-32 and status), and for each session the
 * latest, which is its live record. The first entry of a session marks its place in spawn
 * order, so walking the first entries gives the sessions in spawn order whatever their file order.
 *
 * The entries stay in the index file's own encoding, found through an open-addressing hash
 * table over their id bytes: an open of 250 000 sessions takes their index in a few tens of
 * milliseconds, where strings in a Map took a quarter of a second and 100 MB. An id becomes a
 * string only when someone asks for it.
 */
export class RecordIndex {
  private entries = 0;
  private sessions = 0;
  /** The entries as the index file holds them, INDEX_ENTRY_BYTES each: fields are read from here when asked for. */
  private raw: Buffer = Buffer.allocUnsafe(1024 * INDEX_ENTRY_BYTES);
  /** For a session's first entry, its latest entry; NONE for every later entry. */
  private live = new Int32Array(1024);
  /** Open addressing: slot → a session's first entry, NONE when empty. */
  private table = new Int32Array(2048).fill(NONE);
  /** See {@link facetColumns}; null until a seek filters by a facet. */
  private columns: FacetColumns | null = null;

  /** How many entries (live or superseded). */
  get count(): number {
    return this.entries;
  }

  /** How many sessions the index holds a record of. */
  get sessionCount(): number {
    return this.sessions;
  }

  /** Adds an entry; it becomes the session's live record. Returns its number. */
  push(entry: IndexEntry): number {
    const i = this.claim(1);
    encodeEntry(this.raw, i * INDEX_ENTRY_BYTES, entry);
    this.link(i);
    return i;
  }

  /**
   * Adds the entries an index file's bytes hold (a whole number of entries, checked by the
   * caller). An empty index keeps `bytes` as its own, uncopied: the caller gives them up.
   */
  pushEncoded(bytes: Buffer): void {
    const n = bytes.length / INDEX_ENTRY_BYTES;
    const adopt = this.entries === 0;
    const first = this.claim(n, adopt);
    if (adopt) this.raw = bytes;
    else bytes.copy(this.raw, first * INDEX_ENTRY_BYTES);
    for (let i = first; i < first + n; i += 1) this.link(i);
  }

  idOf(i: number): string {
    return this.raw.toString('latin1', i * INDEX_ENTRY_BYTES, i * INDEX_ENTRY_BYTES + ID_BYTES);
  }

  startOf(i: number): number {
    return this.raw.readUIntLE(i * INDEX_ENTRY_BYTES + 36, 6);
  }

  lengthOf(i: number): number {
    return this.raw.readUInt32LE(i * INDEX_ENTRY_BYTES + 42);
  }

  crcOf(i: number): number {
    return this.raw.readUInt32LE(i * INDEX_ENTRY_BYTES + 46);
  }

  statusOf(i: number): StatusLetter {
    return String.fromCharCode(this.raw[i * INDEX_ENTRY_BYTES + 50]!) as StatusLetter;
  }

  facetsOf(i: number): Facets {
    const at = i * INDEX_ENTRY_BYTES;
    return { agent: this.raw.readUInt32LE(at + 51), phase: this.raw[at + 55]!, issue: this.raw.readUInt32LE(at + 56) };
  }

  /** The live entry of a session, if the index holds it. */
  liveOf(id: string): number | undefined {
    const first = this.firstOf(id);
    return first === undefined ? undefined : this.live[first]!;
  }

  /** The first entry of a session (its place in spawn order), if the index holds it. */
  firstOf(id: string): number | undefined {
    if (id.length !== ID_BYTES) return undefined;
    const mask = this.table.length - 1;
    for (let slot = hashString(id) & mask; ; slot = (slot + 1) & mask) {
      const first = this.table[slot]!;
      if (first === NONE) return undefined;
      if (this.idIs(first, id)) return first;
    }
  }

  /**
   * The live entry of every session whose first entry lies before `upTo`, in spawn order. A
   * session's record may be rewritten while this runs; its newest entry is given.
   */
  *liveEntries(upTo = this.entries): Generator<number> {
    for (let i = 0; i < upTo; i += 1) {
      const live = this.live[i]!;
      if (live !== NONE) yield live;
    }
  }

  /**
   * The next live entry a walk wants, found in one tight loop over the index's bytes rather
   * than entry by entry through a generator (a filter that matches few of 250,000 sessions
   * spent most of its time there). From first entry `at.first`, in spawn order or `reverse`,
   * up to `upTo`: the first live entry whose status `filter.statuses` accepts (indexed by the
   * status letter's code) and that may have `filter.facets`, or any in `filter.stopAt`; -1 when
   * none is left. `at` moves past it; `at.passed` counts every live entry passed, it included.
   * A filter by a facet passes whole blocks of sessions that cannot have it (see
   * {@link BlockFacets}): a rare issue is found among 250,000 sessions without looking at each.
   */
  seek(at: { first: number; passed: number }, reverse: boolean, upTo: number, filter: EntryFilter): number {
    const { raw, live } = this;
    const { statuses } = filter;
    const stopAt = filter.stopAt?.marks ?? null;
    const stopBlocks = filter.stopAt?.blocks ?? null;
    // Agent hashes are compared as signed 32-bit words, as the column holds them; -1 is "any" (a
    // name hashing to 0xffffffff is then looked at by its record, as any other must be).
    const agent = filter.facets.agent === undefined ? -1 : filter.facets.agent | 0;
    const phase = filter.facets.phase === undefined || filter.facets.phase === ANY_PHASE ? -1 : filter.facets.phase;
    const issue = filter.facets.issue === undefined || filter.facets.issue === ANY_ISSUE ? -1 : filter.facets.issue | 0;
    const columns = agent === -1 && phase === -1 && issue === -1 ? null : this.facetColumns();
    const agents = columns?.agent;
    const phases = columns?.phase;
    const issues = columns?.issue;
    const blocks = columns?.blocks ?? null;
    const agentBit = agent === -1 ? 0 : facetBit(agent);
    const phaseBit = phase === -1 ? 0 : facetBit(phase);
    const issueBit = issue === -1 ? 0 : issueBitOf(issue);
    const step = reverse ? -1 : 1;
    // Where a block begins, in the walk's direction.
    const edge = reverse ? BLOCK_MASK : 0;
    // Locals, not `at`'s fields, in the loop: it runs once per session of the store.
    let passed = at.passed;
    for (let i = at.first; reverse ? i >= 0 : i < upTo; i += step) {
      if (blocks !== null && (i & BLOCK_MASK) === edge) {
        const b = i >> BLOCK_SHIFT;
        if (
          b < blocks.full &&
          (reverse || i + BLOCK <= upTo) &&
          (stopBlocks === null || stopBlocks[b] !== 1) &&
          !((agentBit === 0 || (blocks.agents[b]! & agentBit) !== 0) &&
            (phaseBit === 0 || (blocks.phases[b]! & phaseBit) !== 0) &&
            (issueBit === 0 || ((blocks.issueBits[b]! & issueBit) !== 0 && blocks.issueMin[b]! <= issue && issue <= blocks.issueMax[b]!)))
        ) {
          passed += blocks.sessions[b]!;
          // To the block's far end: the loop's step then reaches the next block's edge.
          i += step * BLOCK_MASK;
          continue;
        }
      }
      const entry = live[i]!;
      if (entry === NONE) continue;
      passed += 1;
      if (stopAt !== null && stopAt[i] === 1) return this.found(at, i + step, passed, entry);
      // The facets from the columns first (read in order), the status from the live entry's bytes
      // (anywhere in the index) only for a session they let through.
      if (agent !== -1 && agents![i] !== agent) continue;
      if (phase !== -1 && phases![i] !== ANY_PHASE && phases![i] !== phase) continue;
      if (issue !== -1 && issues![i] !== issue && issues![i] !== ANY_ISSUE_WORD) continue;
      if (statuses !== null && statuses[raw[entry * INDEX_ENTRY_BYTES + 50]!] !== 1) continue;
      return this.found(at, i + step, passed, entry);
    }
    return this.found(at, reverse ? -1 : upTo, passed, NONE);
  }

  /**
   * Each session's facets by its first entry, as columns that a seek reads in order, and what
   * each whole block of first entries holds. A session's facets never change (its agent and
   * context are set at its spawn), so its first entry holds them; read from its live entry's
   * bytes instead, a seek jumped across the whole index (an ended session's live entry lies far
   * from its first): ~27 ns a session, 7 ms for a filter by issue over 250,000. Built by the
   * first seek that filters by a facet (9 bytes an entry) and extended by later ones over the
   * entries added since.
   */
  private facetColumns(): FacetColumns {
    let columns = this.columns;
    if (columns === null || columns.agent.length < this.entries) {
      const size = this.live.length;
      const grown: FacetColumns = { agent: new Int32Array(size), phase: new Uint8Array(size), issue: new Int32Array(size), upTo: columns?.upTo ?? 0, blocks: new BlockFacets(size >> BLOCK_SHIFT) };
      if (columns !== null) {
        grown.agent.set(columns.agent);
        grown.phase.set(columns.phase);
        grown.issue.set(columns.issue);
        grown.blocks.copyFrom(columns.blocks);
      }
      columns = this.columns = grown;
    }
    const { raw, live } = this;
    for (let i = columns.upTo; i < this.entries; i += 1) {
      if (live[i] === NONE) continue;
      const at = i * INDEX_ENTRY_BYTES;
      columns.agent[i] = raw.readInt32LE(at + 51);
      columns.phase[i] = raw[at + 55]!;
      columns.issue[i] = raw.readInt32LE(at + 56);
    }
    columns.upTo = this.entries;
    const { blocks } = columns;
    for (; blocks.full < this.entries >> BLOCK_SHIFT; blocks.full += 1) blocks.summarize(blocks.full, columns, live);
    return columns;
  }

  private found(at: { first: number; passed: number }, next: number, passed: number, entry: number): number {
    at.first = next;
    at.passed = passed;
    return entry;
  }

  /** The index file's bytes of every entry. */
  encode(): Buffer {
    return Buffer.from(this.raw.subarray(0, this.entries * INDEX_ENTRY_BYTES));
  }

  /** Makes room for `n` more entries (but their bytes, when the caller brings its own buffer) and returns the number of the first. */
  private claim(n: number, ownBytes = false): number {
    const first = this.entries;
    if (first + n > this.live.length || (!ownBytes && (first + n) * INDEX_ENTRY_BYTES > this.raw.length)) this.grow(first + n, !ownBytes);
    this.entries += n;
    return first;
  }

  /** Makes entry `i` its session's live record, and its first if the session is new. */
  private link(i: number): void {
    const mask = this.table.length - 1;
    const at = i * INDEX_ENTRY_BYTES;
    let slot = hashBytes(this.raw, at) & mask;
    for (; ; slot = (slot + 1) & mask) {
      const first = this.table[slot]!;
      if (first === NONE) break;
      if (this.sameId(first, at)) {
        this.live[first] = i;
        this.live[i] = NONE;
        return;
      }
    }
    this.table[slot] = i;
    this.live[i] = i;
    this.sessions += 1;
    // At most half full, so a probe stays short.
    if (this.sessions * 2 > this.table.length) this.rehash(this.table.length * 2);
  }

  private sameId(first: number, at: number): boolean {
    const raw = this.raw;
    const from = first * INDEX_ENTRY_BYTES;
    for (let k = 0; k < ID_BYTES; k += 1) if (raw[from + k] !== raw[at + k]) return false;
    return true;
  }

  private idIs(i: number, id: string): boolean {
    const at = i * INDEX_ENTRY_BYTES;
    for (let k = 0; k < ID_BYTES; k += 1) if (this.raw[at + k] !== id.charCodeAt(k)) return false;
    return true;
  }

  private rehash(size: number): void {
    const table = new Int32Array(size).fill(NONE);
    const mask = size - 1;
    for (let i = 0; i < this.entries; i += 1) {
      if (this.live[i] === NONE) continue;
      let slot = hashBytes(this.raw, i * INDEX_ENTRY_BYTES) & mask;
      while (table[slot] !== NONE) slot = (slot + 1) & mask;
      table[slot] = i;
    }
    this.table = table;
  }

  private grow(needed: number, withBytes: boolean): void {
    let size = this.live.length;
    while (size < needed) size *= 2;
    if (size !== this.live.length) {
      const live = new Int32Array(size);
      live.set(this.live);
      this.live = live;
    }
    if (withBytes) {
      const raw = Buffer.allocUnsafe(size * INDEX_ENTRY_BYTES);
      this.raw.copy(raw, 0, 0, this.entries * INDEX_ENTRY_BYTES);
      this.raw = raw;
    }
    // Sized for as many sessions as entries, so decoding a whole file never rehashes.
    let tableSize = this.table.length;
    while (tableSize < size * 2) tableSize *= 2;
    if (tableSize !== this.table.length) this.rehash(tableSize);
  }
}

/** The facet columns of a {@link RecordIndex} and the summaries of their whole blocks. */
interface FacetColumns {
  agent: Int32Array;
  phase: Uint8Array;
  issue: Int32Array;
  /** Entries the columns hold. */
  upTo: number;
  blocks: BlockFacets;
}

/** A facet word's bit in a block's summary: one of 32, by its low bits. */
function facetBit(word: number): number {
  return 1 << (word & 31);
}

/** An issue's bit in a block's summary: one of 32, by a multiplicative hash (issues near one another fall apart). */
function issueBitOf(issue: number): number {
  return 1 << (Math.imul(issue, 0x9e3779b1) >>> 27);
}

/**
 * What each whole block of first entries may hold: a bit for each agent and phase among its
 * sessions and, for issues, their least and greatest and a bit for each. A bit set or a range
 * that holds a value says "may": the entries decide. A session's facets never change, so a
 * block's summary, once made, stays true.
 */
class BlockFacets {
  /** Blocks summarized, from the first: each one whole (all its entries pushed). */
  full = 0;
  /** Sessions (first entries) in each block: what a seek passes when it passes the block. */
  readonly sessions: Int32Array;
  readonly agents: Int32Array;
  readonly phases: Int32Array;
  readonly issueBits: Int32Array;
  readonly issueMin: Int32Array;
  readonly issueMax: Int32Array;

  constructor(count: number) {
    this.sessions = new Int32Array(count);
    this.agents = new Int32Array(count);
    this.phases = new Int32Array(count);
    this.issueBits = new Int32Array(count);
    this.issueMin = new Int32Array(count);
    this.issueMax = new Int32Array(count);
  }

  copyFrom(other: BlockFacets): void {
    this.full = other.full;
    this.sessions.set(other.sessions);
    this.agents.set(other.agents);
    this.phases.set(other.phases);
    this.issueBits.set(other.issueBits);
    this.issueMin.set(other.issueMin);
    this.issueMax.set(other.issueMax);
  }

  /** Summarizes block `b` from the columns of its first entries. */
  summarize(b: number, columns: FacetColumns, live: Int32Array): void {
    let sessions = 0;
    let agents = 0;
    let phases = 0;
    let issueBits = 0;
    let min = 0x7fffffff;
    let max = -0x80000000;
    for (let i = b << BLOCK_SHIFT; i < (b + 1) << BLOCK_SHIFT; i += 1) {
      if (live[i] === NONE) continue;
      sessions += 1;
      agents |= facetBit(columns.agent[i]!);
      const phase = columns.phase[i]!;
      phases |= phase === ANY_PHASE ? -1 : facetBit(phase);
      const issue = columns.issue[i]!;
      // "Any issue" may be asked for by every filter: the block holds every bit and the whole range.
      if (issue === ANY_ISSUE_WORD) {
        issueBits = -1;
        min = -0x80000000;
        max = 0x7fffffff;
        continue;
      }
      issueBits |= issueBitOf(issue);
      if (issue < min) min = issue;
      if (issue > max) max = issue;
    }
    this.sessions[b] = sessions;
    this.agents[b] = agents;
    this.phases[b] = phases;
    this.issueBits[b] = issueBits;
    this.issueMin[b] = min;
    this.issueMax[b] = max;
  }
}

/** FNV-1a over an id's 36 bytes. */
function hashBytes(bytes: Buffer, at: number): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < ID_BYTES; k += 1) hash = Math.imul(hash ^ bytes[at + k]!, 0x01000193);
  return hash >>> 0;
}

/** The same hash over an id given as a string (ids are ASCII). */
function hashString(id: string): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < ID_BYTES; k += 1) hash = Math.imul(hash ^ id.charCodeAt(k), 0x01000193);
  return hash >>> 0;
}

function encodeEntry(out: Buffer, at: number, e: IndexEntry): void {
  out.write(e.id, at, ID_BYTES, 'latin1');
  out.writeUIntLE(e.start, at + 36, 6);
  out.writeUInt32LE(e.length, at + 42);
  out.writeUInt32LE(e.crc >>> 0, at + 46);
  out.write(e.status, at + 50, 1, 'latin1');
  out.writeUInt32LE(e.facets.agent >>> 0, at + 51);
  out[at + 55] = e.facets.phase;
  out.writeUInt32LE(e.facets.issue >>> 0, at + 56);
  out[at + 60] = 0x0a;
}

/** The index file's bytes for these entries. */
export function encodeIndexEntries(entries: readonly IndexEntry[]): Buffer {
  const out = Buffer.alloc(entries.length * INDEX_ENTRY_BYTES);
  entries.forEach((e, n) => encodeEntry(out, n * INDEX_ENTRY_BYTES, e));
  return out;
}

/** Folds an index file's bytes (already checked against its CRC) into `index`. Throws `CORRUPT_CHECKPOINT`. */
export function decodeIndexInto(index: RecordIndex, bytes: Buffer, path: string): void {
  if (bytes.length % INDEX_ENTRY_BYTES !== 0) throw new SessionError('CORRUPT_CHECKPOINT', `${path} is not a whole number of index entries`);
  for (let at = 0; at < bytes.length; at += INDEX_ENTRY_BYTES) {
    if (bytes[at + INDEX_ENTRY_BYTES - 1] !== 0x0a || !LETTER_CODES.has(bytes[at + 50]!)) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a malformed entry at byte ${at}`);
  }
  index.pushEncoded(bytes);
}
