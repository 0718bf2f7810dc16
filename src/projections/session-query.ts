import { z } from 'zod';
import { PhaseSchema } from '../domain/phase.js';
import type { Session } from '../domain/session.js';
import { SessionStatusSchema, type SessionStatus } from '../domain/session-status.js';
import { AgentNameSchema, InstantSchema, UuidSchema } from '../domain/limits.js';
import { SessionError } from '../errors.js';
import { childrenOf } from './lineage.js';

/** A session met by a walk, and its place in the walk (counting every session, wanted or not). */
export interface WalkedSession {
  position: number;
  readonly session: Session;
  /**
   * The session's record as sessions.json holds it, checksum-verified, when the walk read it
   * from there: its JSON can be written from these bytes without decoding the session.
   */
  readonly record?: { id: string; bytes: Buffer };
  /** The session's status, when the walk knows it without decoding the session (from the record index). */
  readonly status?: Session['status'];
}

/** How a walk over the sessions goes. */
export interface WalkOptions {
  /** Newest first (reverse spawn order). */
  reverse?: boolean;
  /** Sessions to pass over first, unread. */
  skip?: number;
  /** Whether sessions of a status are wanted at all: asked before a record is read. */
  which?: (status: SessionStatus) => boolean;
  /**
   * The agent, phase and issue every matching session has (a necessary condition, not a
   * sufficient one: the query's own test decides): a walk whose index keeps them (the
   * checkpoint's) passes over the sessions it says have others, unread.
   */
  wanted?: { agent?: string; phase?: string; issue?: number };
  /** False: a walk of every session (a chart's count) keeps none of the records it read for the next walk. */
  keep?: boolean;
}

/**
 * A map of sessions that can walk them without holding them (the checkpoint's SessionMap, whose
 * sessions stay in sessions.json): queries use it when the map offers it.
 */
export interface WalkableSessions {
  walk(options: WalkOptions): Generator<WalkedSession>;
  /** A number that orders sessions as they were spawned (undefined for an unknown id), without reading them. */
  spawnRank(id: string): number | undefined;
}

/** `ids` in spawn order (unknown ones left out), told without reading any session. */
export function inSpawnOrder(sessions: ReadonlyMap<string, Session>, ids: Iterable<string>): string[] {
  let rank: (id: string) => number | undefined;
  if ('spawnRank' in sessions) rank = (id) => (sessions as ReadonlyMap<string, Session> & WalkableSessions).spawnRank(id);
  else {
    const ranks = new Map([...sessions.keys()].map((id, i) => [id, i]));
    rank = (id) => ranks.get(id);
  }
  return [...ids].map((id) => [id, rank(id)] as const).filter((pair): pair is readonly [string, number] => pair[1] !== undefined).sort((a, b) => a[1] - b[1]).map(([id]) => id);
}

/** The orders a query can list sessions in. */
export const SESSION_ORDERS = ['spawn', 'newest', 'failures-first'] as const;
/** `spawn` (oldest first, the default), `newest` (the reverse), `failures-first` (Failed newest first, then the rest newest first). */
export type SessionOrder = (typeof SESSION_ORDERS)[number];

/** The most sessions one page may hold. */
export const MAX_PAGE = 10_000;

/** Zod schema of a {@link SessionQuery}: what `querySessions` accepts. */
export const SessionQuerySchema = z.strictObject({
  status: z.union([SessionStatusSchema, z.array(SessionStatusSchema).min(1)]).optional(),
  agent: AgentNameSchema.optional(),
  phase: PhaseSchema.optional(),
  issue: z.number().int().positive().optional(),
  pipeline: UuidSchema.optional(),
  createdSince: InstantSchema.optional(),
  createdUntil: InstantSchema.optional(),
  endedSince: InstantSchema.optional(),
  endedUntil: InstantSchema.optional(),
  text: z.string().min(1).max(1024).optional(),
  order: z.enum(SESSION_ORDERS).default('spawn'),
  limit: z.number().int().positive().max(MAX_PAGE).default(100),
  after: z.string().max(512).nullable().optional(),
});

/**
 * Which sessions to list, in what order, a page at a time. Every filter given must hold:
 * - `status` (one or several), `agent`, `phase`, `issue`: equal;
 * - `pipeline`: the sessions of the pipeline whose root session has this id;
 * - `createdSince`/`createdUntil`, `endedSince`/`endedUntil`: inclusive bounds (a session with no
 *   end, Active or imported, never matches an end bound);
 * - `text`: found, ignoring case, in the purpose, the result's output or the error.
 * `limit` sessions a page (default 100, at most {@link MAX_PAGE}); `after` is the `next` cursor
 * of the page before. Status filters are answered from the record index, without reading
 * records; the others read each candidate's record once (a scan that holds one at a time).
 */
export type SessionQuery = z.input<typeof SessionQuerySchema>;

/** One page of a query: its sessions, and the cursor of the next page (null on the last). */
export interface SessionPage {
  sessions: Session[];
  next: string | null;
}

/** A query as {@link parseSessionQuery} returns it: checked, defaults filled in. */
export type ParsedSessionQuery = z.output<typeof SessionQuerySchema>;
type Parsed = ParsedSessionQuery;

/**
 * How each order walks the sessions: one pass or two, each in spawn order or its reverse, and
 * for `failures-first` the Failed sessions first (`failed: true`), then the others. A cursor
 * names its pass.
 */
export const ORDER_PASSES: Readonly<Record<SessionOrder, ReadonlyArray<{ reverse: boolean; failed?: boolean }>>> = {
  spawn: [{ reverse: false }],
  newest: [{ reverse: true }],
  'failures-first': [
    { reverse: true, failed: true },
    { reverse: true, failed: false },
  ],
};

/** Where a page ended: the pass of the order, the position in that pass's walk (a store's own number for the session), and the session there. */
export interface QueryCursor {
  order: SessionOrder;
  pass: number;
  position: number;
  id: string;
}

/** Checks a query; throws `INVALID_INPUT` naming the field. */
export function parseSessionQuery(query: SessionQuery): Parsed {
  const parsed = SessionQuerySchema.safeParse(query ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SessionError('INVALID_INPUT', `query.${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * One page of the sessions of `sessions` that match `query`. On a store opened from its
 * sessions.json, only the records of candidates are read (none for a status filter but those
 * of that status), one at a time, and none is kept. Throws `INVALID_INPUT` (a bad query, or a
 * cursor of another query or store).
 */
export function querySessions(sessions: ReadonlyMap<string, Session>, query: SessionQuery = {}): SessionPage {
  const parsed = parseSessionQuery(query);
  const start = parsed.after == null ? null : decodeCursor(parsed.after, parsed.order);
  const page: Session[] = [];
  let last: QueryCursor | null = null;
  for (const { pass, walked } of candidates(sessions, parsed, start)) {
    if (page.length === parsed.limit) {
      // One more exists: the page ends at the last one taken.
      return { sessions: page, next: encodeCursor(last!) };
    }
    page.push(walked.session);
    last = { order: parsed.order, pass, position: walked.position, id: walked.session.id };
  }
  return { sessions: page, next: null };
}

/**
 * Every session of `sessions` that matches `query` (its `limit` and `after` ignored), in its
 * order, one at a time: for a listing of any size in bounded memory.
 */
export function* streamSessions(sessions: ReadonlyMap<string, Session>, query: Omit<SessionQuery, 'limit' | 'after'> = {}): Generator<Session> {
  for (const walked of streamWalked(sessions, query)) yield walked.session;
}

/**
 * As {@link streamSessions}, each session as walked: a session read from sessions.json comes
 * with its record's bytes and is decoded only when asked for.
 */
export function* streamWalked(sessions: ReadonlyMap<string, Session>, query: Omit<SessionQuery, 'limit' | 'after'> = {}): Generator<WalkedSession> {
  const parsed = parseSessionQuery(query);
  for (const { walked } of candidates(sessions, parsed, null)) yield walked;
}

/** The matching sessions in order, each with its pass and walk position, from just after `start`. */
function* candidates(sessions: ReadonlyMap<string, Session>, query: Parsed, start: QueryCursor | null): Generator<{ pass: number; walked: WalkedSession }> {
  const statuses = query.status === undefined ? null : new Set<SessionStatus>([query.status].flat());
  const matches = sessionMatcher(query);
  const passes = ORDER_PASSES[query.order];
  const source = query.pipeline === undefined ? sessions : pipelineOf(sessions, query.pipeline);
  const wanted = { agent: query.agent, phase: query.phase, issue: query.issue };
  for (let pass = start?.pass ?? 0; pass < passes.length; pass += 1) {
    const { reverse, failed } = passes[pass]!;
    const which = (s: SessionStatus) => (statuses === null || statuses.has(s)) && (failed === undefined || (s === 'Failed') === failed);
    const skip = start !== null && pass === start.pass ? start.position : 0;
    for (const walked of walk(source, { reverse, skip, which, wanted })) {
      // The cursor's own session is checked, then passed: the page after it starts behind it.
      if (start !== null && pass === start.pass && walked.position === start.position) {
        if (walked.session.id !== start.id) throw new SessionError('INVALID_INPUT', 'query.after: the cursor does not belong to this store');
        continue;
      }
      if (matches === null || matches(walked.session)) yield { pass, walked };
    }
  }
}

/** The sessions of a map in spawn order or its reverse: a {@link SessionMap} walks its file, reading one record at a time. */
function* walk(sessions: ReadonlyMap<string, Session>, options: Required<Pick<WalkOptions, 'reverse' | 'skip' | 'which' | 'wanted'>>): Generator<WalkedSession> {
  if ('walk' in sessions) {
    yield* (sessions as ReadonlyMap<string, Session> & WalkableSessions).walk(options);
    return;
  }
  const all = [...sessions.values()];
  if (options.reverse) all.reverse();
  for (let position = options.skip; position < all.length; position += 1) {
    const session = all[position]!;
    if (options.which(session.status)) yield { position, session };
  }
}

/**
 * The sessions of the pipeline whose root is `root` (none for an unknown id), in no particular
 * order: found by going down its tree from the root (handoffs and retries), never by a scan.
 */
export function pipelineMembers(sessions: ReadonlyMap<string, Session>, root: string): Map<string, Session> {
  const members = new Map<string, Session>();
  const top = sessions.get(root);
  const queue = top === undefined ? [] : [top];
  for (let session = queue.shift(); session !== undefined; session = queue.shift()) {
    if (members.has(session.id)) continue;
    members.set(session.id, session);
    queue.push(...childrenOf(sessions, session));
  }
  return members;
}

/** The sessions of the pipeline whose root is `root`, in spawn order (none for an unknown id). */
export function pipelineOf(sessions: ReadonlyMap<string, Session>, root: string): Map<string, Session> {
  const members = pipelineMembers(sessions, root);
  return new Map(inSpawnOrder(sessions, members.keys()).map((id) => [id, members.get(id)!]));
}

/** The filters of a query other than status (which a walk applies first) as one test; null when there are none (every session matches). */
export function sessionMatcher(query: ParsedSessionQuery): ((session: Session) => boolean) | null {
  const tests: Array<(s: Session) => boolean> = [];
  if (query.agent !== undefined) tests.push((s) => s.agentName === query.agent);
  if (query.phase !== undefined) tests.push((s) => s.context.currentPhase === query.phase);
  if (query.issue !== undefined) tests.push((s) => s.context.issueNumber === query.issue);
  const bound = (instant: string | undefined, test: (time: number, at: number) => boolean, of: (s: Session) => string | undefined) => {
    if (instant === undefined) return;
    const at = Date.parse(instant);
    tests.push((s) => {
      const time = of(s);
      return time !== undefined && test(Date.parse(time), at);
    });
  };
  bound(query.createdSince, (t, at) => t >= at, (s) => s.createdAt);
  bound(query.createdUntil, (t, at) => t <= at, (s) => s.createdAt);
  bound(query.endedSince, (t, at) => t >= at, (s) => s.endedAt);
  bound(query.endedUntil, (t, at) => t <= at, (s) => s.endedAt);
  if (query.text !== undefined) {
    const needle = query.text.toLowerCase();
    tests.push((s) => searchableTexts(s).some((text) => text.includes(needle)));
  }
  return tests.length === 0 ? null : (session) => tests.every((test) => test(session));
}

/** The texts a `text` filter looks in (purpose, the result's output, the error), lower-cased as the filter compares them. */
export function searchableTexts(session: Session): string[] {
  const texts: string[] = [];
  for (const text of [session.purpose, session.result?.output, session.error]) if (text !== undefined) texts.push(text.toLowerCase());
  return texts;
}

/** A cursor as the opaque text a page's `next` holds. */
export function encodeCursor(cursor: QueryCursor): string {
  return Buffer.from(JSON.stringify([cursor.order, cursor.pass, cursor.position, cursor.id])).toString('base64url');
}

/** The cursor of a page's `next` text; throws `INVALID_INPUT` for text this library did not write, or a cursor of another order. */
export function decodeCursor(text: string, order: SessionOrder): QueryCursor {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    fields = null;
  }
  const parsed = z.tuple([z.enum(SESSION_ORDERS), z.number().int().min(0).max(2), z.number().int().min(0), UuidSchema]).safeParse(fields);
  if (!parsed.success) throw new SessionError('INVALID_INPUT', 'query.after: not a cursor this library wrote');
  const [cursorOrder, pass, position, id] = parsed.data;
  if (cursorOrder !== order) throw new SessionError('INVALID_INPUT', `query.after: a cursor of order "${cursorOrder}", not "${order}"`);
  return { order, pass, position, id };
}
