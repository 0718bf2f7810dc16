import { SessionError } from '../errors.js';
import type { Session } from '../domain/session.js';
import type { Phase } from '../domain/phase.js';
import type { SessionEvent } from '../events/session-event.js';
import { currentEvent } from '../events/upcast.js';
import { foldEachSession } from '../projections/sessions-projection.js';
import {
  ORDER_PASSES,
  decodeCursor,
  encodeCursor,
  parseSessionQuery,
  sessionMatcher,
  type ParsedSessionQuery,
  type QueryCursor,
  type SessionPage,
  type SessionQuery,
} from '../projections/session-query.js';
import { StatsCounter, type SessionStats } from '../projections/stats.js';
import type { TimedSession } from '../projections/time-series.js';
import type { SnapshotQuery } from '../store/postgres/postgres-event-store.js';
import { searchableInSql } from '../store/postgres/session-row.js';
import { OWN_EVENTS_UP_TO } from '../store/postgres/schema.js';
import type { FoldedSessions } from './folded-sessions.js';

/** The most candidate rows one query of a walk asks for. */
const CHUNK = 500;
/** Rows of the table a chunk of {@link PostgresSessions.timeline} reads. */
const TIMELINE_CHUNK = 5_000;
/** How many a stream asks for first (a report may take only a few). */
const STREAM_FIRST = 50;

/** One group of the stats as a query sums it: sessions of one agent, phase and status. */
type StatsGroupRow = {
  agent_name: string;
  phase: Phase;
  status: Session['status'];
  n: number;
  ended: number;
  total_ms: string;
  max_ms: string | null;
  cost: string;
  turns: string;
};

/**
 * The sessions of a PostgreSQL store as its `sessions` table answers them, inside one snapshot
 * (`PostgresEventStore.inSnapshot`): queries are SQL over the table's columns, and each session
 * returned is folded from its own events by the projection, up to the seq the table is level
 * with, so every answer is the state of the log at that seq.
 */
export class PostgresSessions {
  private constructor(
    private readonly query: SnapshotQuery,
    /** The seq the table is level with: every answer is the log's state there. */
    readonly folded: number,
    /** The last seq the events table holds; above `folded` when the table is behind. */
    readonly top: number,
    /** Sessions folded by earlier reads, by revision, when the caller keeps them between reads. */
    private readonly cache: FoldedSessions | null,
  ) {}

  /** The table as this snapshot sees it; `cache` keeps folded sessions from one read to the next. */
  static async open(query: SnapshotQuery, cache: FoldedSessions | null = null): Promise<PostgresSessions> {
    const [row] = await query<{ folded: string; top: string }>(
      'SELECT (SELECT seq FROM %s.sessions_folded)::text AS folded, (SELECT coalesce(max(seq), 0) FROM %s.events)::text AS top',
    );
    return new PostgresSessions(query, Number(row!.folded), Number(row!.top), cache);
  }

  /** The id of the event at the seq the table is level with (null for an empty store). */
  async lastEventId(): Promise<string | null> {
    if (this.folded === 0) return null;
    const [row] = await this.query<{ id: string }>('SELECT id::text FROM %s.events WHERE seq = $1', [this.folded]);
    return row?.id ?? null;
  }

  /** How many sessions the table holds. */
  async count(): Promise<number> {
    const [row] = await this.query<{ n: string }>('SELECT count(*)::text AS n FROM %s.sessions');
    return Number(row!.n);
  }

  /**
   * The sessions with these ids (unknown ones left out), in spawn order. `revisions`, the table's
   * for some of them: those the cache holds at that revision are not fetched again.
   */
  async get(ids: readonly string[], revisions?: ReadonlyMap<string, number>): Promise<Map<string, Session>> {
    if (ids.length === 0) return new Map();
    const kept = new Map<string, Session>();
    if (this.cache !== null && revisions !== undefined) {
      for (const id of ids) {
        const revision = revisions.get(id);
        const session = revision === undefined ? undefined : this.cache.take(id, revision);
        if (session !== undefined) kept.set(id, session);
      }
    }
    const wanted = kept.size === 0 ? ids : ids.filter((id) => !kept.has(id));
    const folded = wanted.length === 0 ? new Map<string, Session>() : await this.fold(wanted);
    for (const session of folded.values()) this.cache?.keep(session);
    if (kept.size === 0) return folded;
    // In the order asked for (callers ask in spawn order), kept and folded alike.
    const all = new Map<string, Session>();
    for (const id of ids) {
      const session = kept.get(id) ?? folded.get(id);
      if (session !== undefined) all.set(id, session);
    }
    return all;
  }

  /** The sessions with these ids folded from their events, in spawn order. */
  private async fold(ids: readonly string[]): Promise<Map<string, Session>> {
    // Put in seq order here, not by the query: `ORDER BY seq` would let the planner walk the seq index.
    const rows = await this.query<{ event: SessionEvent }>(`SELECT event FROM %s.events WHERE ${OWN_EVENTS_UP_TO}`, [ids, this.folded]);
    // In seq order, the first event of each is its spawn: the map is in spawn order.
    return foldEachSession(rows.map((row) => currentEvent(row.event)).sort((a, b) => a.seq - b.seq));
  }

  /** One page of the sessions matching `query`, as `querySessions` answers it on a file store (a cursor here is this store's). */
  async page(query: SessionQuery = {}): Promise<SessionPage> {
    const parsed = parseSessionQuery(query);
    const start = parsed.after == null ? null : decodeCursor(parsed.after, parsed.order);
    const sessions: Session[] = [];
    let last: QueryCursor | null = null;
    for await (const found of this.matching(parsed, start, parsed.limit + 1, true)) {
      if (sessions.length === parsed.limit) return { sessions, next: encodeCursor(last!) };
      sessions.push(found.session);
      last = found.cursor;
    }
    return { sessions, next: null };
  }

  /** Every session matching `query` (its limit and cursor ignored), in its order, a chunk at a time. */
  async *stream(query: Omit<SessionQuery, 'limit' | 'after'> = {}): AsyncGenerator<Session> {
    for await (const found of this.matching(parseSessionQuery(query), null, STREAM_FIRST)) yield found.session;
  }

  /**
   * Every session in spawn order, as much of it as a chart over time reads, from the table's
   * columns alone, a chunk at a time: the charts of the dashboard's overview folded every session
   * from its events (875,000 at 250,000 sessions) every time the store had moved.
   */
  async *timeline(): AsyncGenerator<TimedSession> {
    for (let after = -1; ; ) {
      const rows = await this.query<{ place: string; status: Session['status']; agent_name: string; created_ms: string; ended_ms: string | null; cost_nanos: string; turns: number }>(
        `SELECT spawn_seq::text AS place, status, agent_name, created_ms::text, ended_ms::text, cost_nanos::text, turns
         FROM %s.sessions WHERE spawn_seq > $1 ORDER BY spawn_seq LIMIT ${TIMELINE_CHUNK}`,
        [after],
      );
      for (const row of rows) {
        const session: TimedSession = { createdAt: new Date(Number(row.created_ms)).toISOString(), status: row.status, agentName: row.agent_name };
        if (row.ended_ms !== null) session.endedAt = new Date(Number(row.ended_ms)).toISOString();
        const cost = Number(row.cost_nanos);
        if (cost !== 0 || row.turns !== 0) session.result = { totalCostUsd: cost / 1e9, numTurns: row.turns };
        yield session;
      }
      if (rows.length < TIMELINE_CHUNK) return;
      after = Number(rows.at(-1)!.place);
    }
  }

  /** The stats of every session: the groups the folds keep, or else summed by the database over the table's columns. */
  async stats(): Promise<SessionStats> {
    const groups = (await this.keptStats()) ?? (await this.query<StatsGroupRow>(
      `SELECT agent_name, phase, status, count(*)::int AS n, count(ended_ms)::int AS ended, coalesce(sum(ended_ms - created_ms), 0)::text AS total_ms,
         max(ended_ms - created_ms)::text AS max_ms, sum(cost_nanos)::text AS cost, sum(turns)::text AS turns
       FROM %s.sessions GROUP BY agent_name, phase, status ORDER BY min(spawn_seq)`,
    ));
    const counter = new StatsCounter();
    // Groups in the order of their first session: agents come out in the order a replay meets them.
    for (const g of groups) {
      counter.addGroup({
        agentName: g.agent_name,
        phase: g.phase,
        status: g.status,
        count: g.n,
        ended: g.ended,
        totalMs: Number(g.total_ms),
        maxMs: g.max_ms === null ? null : Number(g.max_ms),
        costNanos: Number(g.cost),
        turns: Number(g.turns),
      });
    }
    return counter.result();
  }

  /**
   * The groups the folds keep (the `session_stats` table), in the order of their first session;
   * null when that table is not level with the sessions table (a store an earlier version
   * folded, not migrated since) or not there at all (a role that may only read, on a store an
   * earlier version made): the caller then sums the sessions table.
   */
  private async keptStats(): Promise<StatsGroupRow[] | null> {
    const [kept] = await this.query<{ kept: boolean }>(
      `SELECT to_regclass('%s.session_stats') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('%s.sessions_folded') AND attname = 'stats_seq' AND NOT attisdropped) AS kept`,
    );
    if (kept?.kept !== true) return null;
    // One row at least (the level), with no group when the store has none or the stats are not level.
    const rows = await this.query<StatsGroupRow & { level: boolean }>(
      `SELECT f.level, g.agent_name, g.phase, g.status, g.n::int AS n, g.ended::int AS ended, g.total_ms::text AS total_ms, g.max_ms::text AS max_ms,
         g.cost_nanos::text AS cost, g.turns::text AS turns
       FROM (SELECT stats_seq IS NOT DISTINCT FROM seq AS level FROM %s.sessions_folded) f
       LEFT JOIN %s.session_stats g ON f.level AND g.n > 0
       ORDER BY g.first_spawn, g.agent_name, g.phase, g.status`,
    );
    if (rows[0]?.level !== true) return null;
    return rows.filter((row) => row.agent_name !== null);
  }

  /** The id of the root of the pipeline `id` belongs to, or undefined for an unknown session. */
  async rootOf(id: string): Promise<string | undefined> {
    return (await this.rootsOf([id])).get(id);
  }

  /** The sessions of the pipeline whose root is `root` (its handoffs and retries, down the tree), in spawn order. */
  async pipeline(root: string): Promise<Map<string, Session>> {
    const rows = await this.treeRows([root]);
    return this.get(rows.map((r) => r.id), new Map(rows.map((r) => [r.id, r.revision])));
  }

  /**
   * The pipeline of each of `ids` (its sessions root first, in spawn order), unknown ids left
   * out: in three queries for any number (the roots, their trees, the sessions' events), where
   * asking {@link rootOf} and {@link pipeline} for each made a page of pipelines wait for a few
   * round trips a row.
   */
  async pipelinesOf(ids: readonly string[]): Promise<Map<string, Map<string, Session>>> {
    if (ids.length === 0) return new Map();
    const roots = await this.rootsOf(ids);
    const rows = await this.treeRows([...new Set(roots.values())]);
    const sessions = await this.get(rows.map((r) => r.id), new Map(rows.map((r) => [r.id, r.revision])));
    const trees = new Map<string, Map<string, Session>>();
    for (const { root, id } of rows) {
      const session = sessions.get(id);
      if (session === undefined) continue;
      const tree = trees.get(root) ?? new Map<string, Session>();
      trees.set(root, tree.set(id, session));
    }
    return new Map([...roots].flatMap(([id, root]) => (trees.has(root) ? [[id, trees.get(root)!] as const] : [])));
  }

  /** The root of the pipeline each of `ids` belongs to, by id; unknown ids left out. One recursive query for any number. */
  private async rootsOf(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.query<{ id: string; root: string }>(
      `WITH RECURSIVE up (start, id, parent, depth) AS (
         SELECT id, id, parent_session, 0 FROM %s.sessions WHERE id = ANY($1::uuid[])
         UNION ALL SELECT up.start, s.id, s.parent_session, up.depth + 1 FROM %s.sessions s JOIN up ON s.id = up.parent
       ) SELECT DISTINCT ON (start) start::text AS id, id::text AS root FROM up ORDER BY start, depth DESC`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.root]));
  }

  /** Every session of the pipelines whose roots are `roots` (handoffs and retries, down each tree), with its root, in spawn order. */
  private treeRows(roots: readonly string[]): Promise<Array<{ root: string; id: string; revision: number }>> {
    return this.query<{ root: string; id: string; revision: number }>(
      `WITH RECURSIVE tree (root, id) AS (
         SELECT id, id FROM %s.sessions WHERE id = ANY($1::uuid[])
         UNION SELECT tree.root, c.id FROM %s.sessions c JOIN tree ON c.parent_session = tree.id
       ) SELECT tree.root::text, s.id::text, s.revision FROM tree JOIN %s.sessions s USING (id) ORDER BY s.spawn_seq`,
      [roots],
    );
  }

  private async pipelineIds(root: string): Promise<string[]> {
    return (await this.treeRows([root])).map((r) => r.id);
  }

  /** A cursor of this store names the session at its place; any other is refused. */
  private async checkCursor(start: QueryCursor): Promise<void> {
    const rows = await this.query<{ id: string }>('SELECT id::text FROM %s.sessions WHERE spawn_seq = $1', [start.position]);
    if (rows[0]?.id !== start.id) throw foreignCursor();
  }

  /**
   * The sessions matching a query in its order, each with the cursor just past it: SQL picks
   * the candidates by the table's columns (its text column only narrows), a chunk at a time by
   * `spawn_seq`, and the query's own test decides on each session as folded.
   */
  /**
   * The sessions matching `query` from just after `start`. With `checkStart`, `start` is checked
   * first ({@link checkCursor}), in the first chunk's own query where it can be: a page after
   * the first made one more round trip for it.
   */
  private async *matching(query: ParsedSessionQuery, start: QueryCursor | null, first = query.limit + 1, checkStart = false): AsyncGenerator<{ session: Session; cursor: QueryCursor }> {
    const matches = sessionMatcher(query);
    // A page asks first for as many as it shows (and one more), then for more and more: a page
    // of 50 folds about 51 sessions, a stream soon reads in chunks of CHUNK.
    let chunk = Math.min(first, CHUNK);
    const members = query.pipeline === undefined ? null : await this.pipelineIds(query.pipeline);
    const passes = ORDER_PASSES[query.order];
    for (let pass = start?.pass ?? 0; pass < passes.length; pass += 1) {
      const { reverse, failed } = passes[pass]!;
      let after = start !== null && pass === start.pass ? start.position : null;
      for (;;) {
        const checking = checkStart && start !== null ? start : null;
        const { text, values } = candidateSql(query, { reverse, failed, after, members, limit: chunk, cursorAt: checking?.position ?? null });
        const rows = await this.query<{ id: string; place: string; revision: number; cursor_id?: string | null }>(text, values);
        if (checking !== null) {
          checkStart = false;
          if (rows.length === 0) await this.checkCursor(checking);
          else if (rows[0]!.cursor_id !== checking.id) throw foreignCursor();
        }
        if (rows.length === 0) break;
        const sessions = await this.get(rows.map((r) => r.id), new Map(rows.map((r) => [r.id, r.revision])));
        for (const row of rows) {
          const session = sessions.get(row.id)!;
          if (matches === null || matches(session)) yield { session, cursor: { order: query.order, pass, position: Number(row.place), id: row.id } };
        }
        if (rows.length < chunk) break;
        after = Number(rows.at(-1)!.place);
        chunk = Math.min(chunk * 2, CHUNK);
      }
    }
  }
}

/** The SQL of one chunk of candidates: the query's filters as conditions on the table's columns, past `after` in the pass's order. */
function candidateSql(
  query: ParsedSessionQuery,
  pass: { reverse: boolean; failed: boolean | undefined; after: number | null; members: string[] | null; limit: number; cursorAt?: number | null },
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = ['true'];
  if (query.status !== undefined) {
    const statuses = [query.status].flat();
    // One status as an equality: the (status, spawn_seq) index then gives the rows in order and
    // the page stops at its limit; `= ANY` of an array gives them unordered, to be sorted whole.
    where.push(statuses.length === 1 ? `status = ${bind(statuses[0])}` : `status = ANY(${bind(statuses)}::text[])`);
  }
  if (pass.failed !== undefined) where.push(pass.failed ? `status = 'Failed'` : `status <> 'Failed'`);
  if (query.agent !== undefined) where.push(`agent_name = ${bind(query.agent)}`);
  if (query.phase !== undefined) where.push(`phase = ${bind(query.phase)}`);
  if (query.issue !== undefined) where.push(`issue = ${bind(query.issue)}`);
  if (pass.members !== null) where.push(`id = ANY(${bind(pass.members)}::uuid[])`);
  // Epoch milliseconds, as Date.parse reads both sides in the query's own test.
  const bounds: Array<[string | undefined, string]> = [
    [query.createdSince, 'created_ms >='],
    [query.createdUntil, 'created_ms <='],
    [query.endedSince, 'ended_ms >='],
    [query.endedUntil, 'ended_ms <='],
  ];
  for (const [instant, test] of bounds) if (instant !== undefined) where.push(`${test} ${bind(Date.parse(instant))}`);
  if (query.text !== undefined && searchableInSql(query.text.toLowerCase())) where.push(`strpos(search_text, ${bind(query.text.toLowerCase())}) > 0`);
  if (pass.after !== null) where.push(`spawn_seq ${pass.reverse ? '<' : '>'} ${bind(pass.after)}`);
  // The session a cursor names, beside each row, for the page that checks its cursor in the same query.
  const cursor = pass.cursorAt == null ? '' : `, (SELECT id::text FROM %s.sessions WHERE spawn_seq = ${bind(pass.cursorAt)}) AS cursor_id`;
  return {
    text: `SELECT id::text, spawn_seq::text AS place, revision${cursor} FROM %s.sessions WHERE ${where.join(' AND ')} ORDER BY spawn_seq ${pass.reverse ? 'DESC' : 'ASC'} LIMIT ${pass.limit}`,
    values,
  };
}

function foreignCursor(): SessionError {
  return new SessionError('INVALID_INPUT', 'query.after: the cursor does not belong to this store');
}
