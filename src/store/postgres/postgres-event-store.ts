import pg from 'pg';
import { SessionError } from '../../errors.js';
import { isPipelineEvent, type SessionEvent } from '../../events/session-event.js';
import { START, type AppendRequest, type ConnectReport, type EventSink, type EventStore, type ReadOptions, type StoreCursor, type StoreRead } from '../event-store.js';
import { PostgresRead } from './postgres-read.js';
import { stampBatch } from '../file/stamp-batch.js';
import { GroupCommit, type PendingAppend } from '../group-commit.js';
import { OWN_EVENTS_UP_TO, channelOf, checkSchemaName, migrationSql, storeSessionColumnsQuery } from './schema.js';
import { withRetry } from './with-retry.js';
import { PostgresTranscripts } from './postgres-transcripts.js';
import { inTransaction } from './transaction.js';
import { PostgresSlotTable } from './postgres-slots.js';
import { PostgresAgentLogs } from './postgres-agent-logs.js';
import { currentEvent } from '../../events/upcast.js';
import { sessionRowColumns, type SessionsTableFold } from './session-row.js';

/** Options of {@link PostgresEventStore}. */
export interface PostgresStoreOptions {
  /** e.g. `postgres://user@127.0.0.1:5432/db` */
  connectionString: string;
  /** The schema holding the tables (default `miyabi`); one store per schema. */
  schema?: string;
  /** Connections in the pool (default 5). */
  poolSize?: number;
  /** Most appends one transaction may cover (default 1 000). */
  maxBatch?: number;
  /**
   * The `application_name` of this store's connections (default `miyabi-session-manager`): how
   * its backends are told apart in `pg_stat_activity`, e.g. to terminate only them.
   */
  applicationName?: string;
}

/** See {@link PostgresEventStore.counters}. */
export interface PostgresStoreCounters {
  /** Transactions that appended events (one per group commit that wrote). */
  commits: number;
  /** Events this store appended. */
  eventsCommitted: number;
  /** Events read from the table: at open, and those other writers appended; its own only when one lands while it reads. */
  eventsRead: number;
  /** Time spent in calls of `append_events`, round trip included (with other writers, waiting for the lock too). */
  callMs: number;
}

const PAGE = 5000;
/** A fold of this many events or more is followed by ANALYZE of the sessions table. */
const ANALYZE_AFTER = 20_000;
/** How many times a commit is stamped again because the sessions it touches moved on meanwhile. */
const MAX_STAMPS = 10;

/**
 * An event store in PostgreSQL, for agents on many hosts sharing one record of sessions.
 * Appends from one process are group-committed: each batch is one call of a server-side function
 * (one round trip, one transaction) that holds a transaction-level advisory lock (so `seq` stays
 * gap-free), checks the sessions' versions, and inserts with a per-session version under a
 * unique constraint; a handoff's events share that transaction. New events are announced with
 * NOTIFY, and every store LISTENs, so other managers see them at once; a store reads back only
 * what others wrote.
 */
export class PostgresEventStore implements EventStore {
  readonly location: string;
  /** A stale decision costs a CONFLICT and a retry; a read before every write would cost a round trip. */
  readonly refreshBeforeWrite = false;
  /** The agents' conversations, in the schema's `transcripts` table. */
  readonly transcripts: PostgresTranscripts;
  /** The ends of running agents' logs, in the schema's `agent_logs` table. */
  readonly agentLogs: PostgresAgentLogs;
  /** The concurrency slots every manager and host on the store shares (tables `slot_limit` and `slots`). */
  readonly slots: PostgresSlotTable;
  /** What this store has done: commits (transactions), and events it read from the table (for benchmarks and tests). */
  readonly counters: PostgresStoreCounters = { commits: 0, eventsCommitted: 0, eventsRead: 0, callMs: 0 };
  private migrated: Promise<void> | null = null;
  private readonly schema: string;
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  private sink: EventSink | null = null;
  private position: StoreCursor = START;
  private reading: Promise<number> = Promise.resolve(0);
  private readonly appends: GroupCommit;
  private writer: Promise<pg.Client> | null = null;
  /** The group commit in flight, if any: it settles once its events are handed to the sink. */
  private committing: Promise<void> | null = null;
  private closed = false;

  private get applicationName(): string {
    return this.options.applicationName ?? 'miyabi-session-manager';
  }

  constructor(private readonly options: PostgresStoreOptions) {
    this.schema = checkSchemaName(options.schema ?? 'miyabi');
    const url = new URL(options.connectionString);
    url.password = url.password === '' ? '' : '***';
    this.location = `${url.toString()}#${this.schema}`;
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 5, application_name: this.applicationName });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.appends = new GroupCommit((batch) => this.tracked(this.commit(batch)), options.maxBatch ?? 1000);
    this.transcripts = new PostgresTranscripts(this.pool, this.schema, () => this.migratedOnce());
    this.agentLogs = new PostgresAgentLogs(this.pool, this.schema, () => this.migratedOnce());
    this.slots = new PostgresSlotTable(this.pool, this.schema, () => this.migratedOnce());
  }

  /** {@link migrate}, run once for this store (again after a failure). */
  private migratedOnce(): Promise<void> {
    return (this.migrated ??= this.migrate().catch((error: unknown) => {
      this.migrated = null;
      throw error;
    }));
  }

  /** Creates the schema and tables if missing (idempotent); `connect` runs it too. */
  async migrate(): Promise<void> {
    await withRetry(`migrating ${this.location}`, async () => {
      const client = await this.pool.connect();
      try {
        await client.query(migrationSql(this.schema));
        client.release();
      } catch (error) {
        // A failed migration leaves its transaction open: this connection must not be reused.
        client.release(true);
        throw error;
      }
    });
  }

  /**
   * Refreshes the planner's statistics of the schema's tables (`ANALYZE`), as autovacuum does
   * in time: after a bulk load (`copy`), a search or a read may otherwise be planned on none.
   */
  async analyze(): Promise<void> {
    await this.migratedOnce();
    const s = this.schema;
    await withRetry(`analyzing ${this.location}`, () => this.pool.query(`ANALYZE ${s}.events, ${s}.sessions, ${s}.transcripts, ${s}.transcript_messages`));
  }

  /**
   * Folds into the `sessions` table the events it has not folded yet, up to the last one
   * committed as it begins, a page at a time, each page in one transaction that first locks the
   * table's `sessions_folded` row (folds go one at a time; appends go on meanwhile, and the next
   * fold takes what they add): `fold` computes the rows of a page's events from the earlier
   * events of the sessions they touch and of the parents they spawn under (of those it does not
   * hold already, see SessionsTableFold), and hears whether they were stored. Resolves with the
   * events folded. `onProgress` hears how far it got, of how many.
   */
  async catchUpSessionsTable(fold: SessionsTableFold, onProgress?: (done: number, total: number) => void): Promise<number> {
    // Once per store: a reader that reads again and again does not replace the functions each time.
    await this.migratedOnce();
    let folded = 0;
    // What was committed when the catch-up began: under appends faster than a fold, chasing the
    // top would never end, and the read asked for nothing newer.
    let target: number | null = null;
    for (;;) {
      let stored: number | null = null;
      const done = await this.transaction('folding events into the sessions table', async (client) => {
        const { rows: marks } = await client.query<{ seq: string; top: string }>(
          `SELECT seq::text, (SELECT coalesce(max(seq), 0) FROM ${this.schema}.events)::text AS top FROM ${this.schema}.sessions_folded FOR UPDATE`,
        );
        const level = Number(marks[0]!.seq);
        target ??= Number(marks[0]!.top);
        if (level >= target) return 0;
        onProgress?.(folded, folded + target - level);
        const { rows } = await client.query<{ event: SessionEvent }>(`SELECT event FROM ${this.schema}.events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT ${PAGE}`, [level, target]);
        const events = rows.map((r) => currentEvent(r.event));
        // The sessions spawned before this page: those its events touch, and the parents its spawns name.
        const spawnedHere = new Set<string>();
        const ids = new Set<string>();
        for (const event of events) {
          if (event.type === 'SessionSpawned') {
            spawnedHere.add(event.sessionId);
            if (event.data.parentSession !== null && !spawnedHere.has(event.data.parentSession)) ids.add(event.data.parentSession);
          } else if (isPipelineEvent(event)) {
            // A pipeline stream's event is checked against its root.
            if (!spawnedHere.has(event.data.rootId)) ids.add(event.data.rootId);
          } else if (!spawnedHere.has(event.sessionId)) ids.add(event.sessionId);
        }
        // Their history, but of those the fold holds as they stand at `level`.
        const wanted = fold.historyWanted([...ids], level);
        const earlier =
          wanted.length === 0
            ? []
            : (await client.query<{ event: SessionEvent }>(`SELECT event FROM ${this.schema}.events WHERE ${OWN_EVENTS_UP_TO} ORDER BY session_id, version`, [wanted, level])).rows;
        const sessionRows = fold.rows(earlier.map((r) => currentEvent(r.event)), events);
        await client.query(storeSessionColumnsQuery(this.schema), [level, events.at(-1)!.seq, ...sessionRowColumns(sessionRows)]);
        stored = events.at(-1)!.seq;
        return events.length;
      }).catch((error: unknown) => {
        fold.settled(null);
        throw error;
      });
      // Committed: the fold may keep what it worked out.
      if (stored !== null) fold.settled(stored);
      if (done === 0) break;
      folded += done;
    }
    // After a large fold the planner's picture of the table is stale until autovacuum comes by:
    // a recursive lineage query then walks it whole instead of using its indexes.
    if (folded >= ANALYZE_AFTER) await withRetry('analyzing the sessions table', () => this.pool.query(`ANALYZE ${this.schema}.sessions`));
    return folded;
  }

  /**
   * Runs `read` in one read-only transaction that sees one snapshot of every table (REPEATABLE
   * READ): the sessions table and the events stay consistent across its queries. A table that
   * does not exist (a schema never migrated) makes a query throw `STORAGE`.
   */
  async inSnapshot<T>(read: (query: SnapshotQuery) => Promise<T>): Promise<T> {
    // No migration here: a role that may only read can read.
    return this.transaction('reading', async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      return read(async (text, values) => (await client.query(text.replaceAll('%s', this.schema), values)).rows);
    });
  }

  /** Runs `work` in a transaction on a connection of the pool, committed when it resolves. */
  private async transaction<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await inTransaction(() => withRetry(`connecting for ${what}`, () => this.pool.connect()), work);
    } catch (error) {
      if (error instanceof SessionError) throw error;
      throw new SessionError('STORAGE', `${what} in ${this.location} failed: ${(error as Error).message}`, { cause: error });
    }
  }


  async connect(sink: EventSink, from: StoreCursor | null): Promise<ConnectReport> {
    await this.migratedOnce();
    this.sink = sink;
    if (from !== null) this.position = { ...from };
    const replayedEvents = await this.refresh();
    await this.listen();
    return { replayedEvents, tornTail: null };
  }

  async holdsEvents(): Promise<boolean> {
    return (await this.lastSeq()) > 0;
  }

  async verifyCursor(cursor: StoreCursor, eventId: string): Promise<boolean> {
    if (cursor.seq === 0) return true;
    try {
      const { rows } = await withRetry('reading a checkpoint position', () =>
        this.pool.query<{ id: string }>(`SELECT id::text FROM ${this.schema}.events WHERE seq = $1`, [cursor.seq]),
      );
      return rows[0]?.id === eventId;
    } catch (error) {
      // No table yet (a new schema): no checkpoint can match it.
      if (isMissingTable(error)) return false;
      throw error;
    }
  }

  append(request: AppendRequest): Promise<SessionEvent[]> {
    if (this.closed) return Promise.reject(new SessionError('CLOSED', `${this.location} is closed`));
    return this.appends.enqueue(request);
  }

  /** Reads every event after the sink's position, in order; serialized so none is delivered twice. */
  refresh(): Promise<number> {
    if (this.closed) return Promise.reject(new SessionError('CLOSED', `${this.location} is closed`));
    this.reading = this.reading.catch(() => 0).then(() => this.readNew());
    return this.reading;
  }

  async readRecords(from: StoreCursor | null, options: ReadOptions = {}): Promise<StoreRead> {
    const top = await this.lastSeq();
    const read = new PostgresRead(from?.seq ?? 0, top, this.location, options, (after) => this.page(after, top + 1));
    return { size: top, records: read.records(), end: () => read.end(), cursorAfter: (record) => ({ seq: record.event.seq, position: {} }) };
  }

  watch(onChange: () => Promise<unknown>): { stop: () => void } {
    // Each commit's NOTIFY wakes the watcher at once; a slow poll backs up a dropped connection.
    let stopped = false;
    let running = false;
    const tick = () => {
      if (running || stopped) return;
      running = true;
      void onChange().catch(() => undefined).finally(() => (running = false));
    };
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.applicationName });
    client.on('error', () => undefined);
    client.on('notification', tick);
    void client.connect().then(() => client.query(`LISTEN ${channelOf(this.schema)}`)).catch(() => undefined);
    const timer = setInterval(tick, 1000);
    timer.unref();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
        void client.end().catch(() => undefined);
      },
    };
  }

  /** The last `seq` the table holds (0 when empty or not created yet). */
  private async lastSeq(): Promise<number> {
    try {
      const { rows } = await withRetry('reading the last seq', () => this.pool.query<{ top: string }>(`SELECT coalesce(max(seq), 0)::text AS top FROM ${this.schema}.events`));
      return Number(rows[0]?.top ?? 0);
    } catch (error) {
      if (isMissingTable(error)) return 0;
      throw error;
    }
  }

  async readSessionEvents(sessionId: string, upTo: StoreCursor): Promise<SessionEvent[]> {
    try {
      const { rows } = await withRetry('reading a session\'s events', () =>
        this.pool.query<{ event: SessionEvent }>(`SELECT event FROM ${this.schema}.events WHERE ${OWN_EVENTS_UP_TO} ORDER BY session_id, version`, [[sessionId], upTo.seq]),
      );
      return rows.map((r) => currentEvent(r.event));
    } catch (error) {
      if (isMissingTable(error)) return [];
      throw error;
    }
  }

  async *readAll(): AsyncIterable<SessionEvent[]> {
    let after = 0;
    for (;;) {
      const events = await this.page(after);
      if (events.length === 0) return;
      yield events;
      after = events.at(-1)!.seq;
    }
  }

  cursor(): StoreCursor {
    return { ...this.position };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appends.drained();
    await this.reading.catch(() => undefined);
    await this.listener?.end().catch(() => undefined);
    await this.writer?.then((client) => client.end()).catch(() => undefined);
    await this.pool.end();
  }

  /** Reads and applies every event after the sink's position, or only those before `before`. */
  private async readNew(before = Number.MAX_SAFE_INTEGER): Promise<number> {
    let count = 0;
    for (;;) {
      const events = await this.page(this.position.seq, before);
      if (events.length === 0) return count;
      this.counters.eventsRead += events.length;
      this.sink!.apply(events);
      const seq = events.at(-1)!.seq;
      this.position = { seq, position: {} };
      count += events.length;
    }
  }

  private async page(after: number, before = Number.MAX_SAFE_INTEGER): Promise<SessionEvent[]> {
    const { rows } = await withRetry('reading events', () =>
      this.pool.query<{ event: SessionEvent }>(`SELECT event FROM ${this.schema}.events WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT ${PAGE}`, [after, before]),
    );
    // Events written by an earlier version are brought up to this one's schema, as on files.
    return rows.map((r) => currentEvent(r.event));
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.applicationName });
    client.on('error', () => {
      // The connection dropped: reconnect while open; appends and reads go through the pool meanwhile.
      this.listener = null;
      if (!this.closed) setTimeout(() => void this.listen().catch(() => undefined), 200).unref();
    });
    await withRetry('listening for new events', () => client.connect());
    await client.query(`LISTEN ${channelOf(this.schema)}`);
    client.on('notification', (message) => void this.follow(Number(message.payload)));
    this.listener = client;
    // Events committed while we were not listening.
    await this.refresh();
  }

  /**
   * Reads up to `seq`, the last one a NOTIFY announced, unless this store has it already. The
   * announcement of this store's own commit may come before that commit's answer: so commits in
   * flight are waited for first; each hands its own events over with no read.
   */
  private async follow(seq: number): Promise<void> {
    // Commits in a row each read what others wrote before them: a busy store catches up anyway.
    while (this.committing !== null) await this.committing;
    if (seq <= this.position.seq || this.closed) return;
    // Up to `seq` only: a commit of this store that lands meanwhile hands its events over itself.
    this.reading = this.reading.catch(() => 0).then(() => this.readNew(seq + 1));
    await this.reading.catch(() => undefined);
  }

  /** Marks `commit` as the commit in flight until it settles (a commit settles its appends, never rejects). */
  private tracked(commit: Promise<void>): Promise<void> {
    const settled = commit.finally(() => {
      if (this.committing === settled) this.committing = null;
    });
    this.committing = settled;
    return settled;
  }

  /**
   * One group commit: stamp the batch on what this store has read, send it in one call of
   * `append_events` (one round trip, one transaction), and if a session moved on meanwhile,
   * stamp again on the latest versions the call returned (a later stamp may refuse an append
   * with CONFLICT). A commit whose outcome is unknown (the connection lost) is never retried.
   */
  private async commit(batch: PendingAppend[]): Promise<void> {
    const refused: Array<[PendingAppend, unknown]> = [];
    const deferred = batch.map((p) => ({ ...p, reject: (error: unknown) => refused.push([p, error]) }));
    const ids = sessionsOf(batch);
    let revisionOf = (id: string) => this.sink!.revisionOf(id);
    let accepted: Array<{ pending: (typeof deferred)[number]; stored: SessionEvent[] }> = [];
    let events: SessionEvent[] = [];
    let first = 0;
    let client: pg.Client;
    try {
      client = await this.writerConnection();
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    try {
      for (let attempt = 1; ; attempt += 1) {
        refused.length = 0;
        const bases = new Map(ids.map((id) => [id, revisionOf(id)]));
        ({ accepted, events } = stampBatch(deferred, this.position.seq, (id) => bases.get(id)!, this.location));
        if (events.length === 0) break;
        const called = performance.now();
        const latest = await this.callAppend(client, events, bases);
        this.counters.callMs += performance.now() - called;
        if (typeof latest === 'number') {
          first = latest;
          break;
        }
        if (attempt === MAX_STAMPS) throw new SessionError('CONFLICT', `${this.location}: the sessions of this append kept changing; gave up after ${attempt} tries`);
        revisionOf = (id) => latest.get(id) ?? bases.get(id)!;
      }
    } catch (error) {
      // Whatever broke, the next commit starts on a new connection.
      if (!(error instanceof SessionError)) this.dropWriter();
      const failure = error instanceof SessionError ? error : uniqueViolation(error) ?? new SessionError('STORAGE', `appending to ${this.location} failed: ${(error as Error).message}`, { cause: error });
      // A caller refused with CONFLICT decides again: on the winner's events.
      if (failure.code === 'CONFLICT') await this.refresh().catch(() => undefined);
      for (const p of batch) p.reject(failure);
      return;
    }
    // The stamp guessed the seqs; the server gave them. Same objects, so callers get them too.
    for (const [i, event] of events.entries()) (event as { seq: number }).seq = first + i;
    if (events.length > 0) {
      this.counters.commits += 1;
      this.counters.eventsCommitted += events.length;
      await this.deliverOwn(events).catch(() => undefined);
    }
    // A refused caller re-decides on the winner's events: catch up before answering it.
    if (refused.length > 0) await this.refresh().catch(() => undefined);
    for (const [p, error] of refused) p.reject(error);
    for (const { pending, stored } of accepted) pending.resolve(stored);
  }

  /**
   * Calls `append_events`: the first seq given, or each session's latest version when one moved
   * on. `bases` holds the version each session was stamped on; the server checks those without
   * events in the batch itself, and the others by the unique (session_id, version).
   */
  private async callAppend(client: pg.Client, events: SessionEvent[], bases: Map<string, number>): Promise<number | Map<string, number>> {
    const next = new Map<string, number>();
    const versions = events.map((e) => {
      const version = (next.get(e.sessionId) ?? bases.get(e.sessionId)!) + 1;
      next.set(e.sessionId, version);
      return version;
    });
    const unwritten = [...bases.keys()].filter((id) => !next.has(id));
    // One JSON text for all of them: a text[] would have pg escape every quote of every event.
    const { rows } = await client.query<{ first_seq: string | null; session_id: string | null; version: number | null }>({
      // Named: the connection parses and plans it once, not at every commit. The writer
      // connection serves one schema, so one name will do.
      name: 'miyabi_append_events',
      text: `SELECT first_seq::text, session_id::text, version FROM ${this.schema}.append_events($1::uuid[], $2::int[], $3::bigint, $4::uuid[], $5::uuid[], $6::int[], $7::text[], $8::json)`,
      values: [unwritten, unwritten.map((id) => bases.get(id)!), events[0]!.seq, events.map((e) => e.id), events.map((e) => e.sessionId), versions, events.map((e) => e.type), JSON.stringify(events)],
    });
    if (rows[0]?.first_seq !== null && rows[0]?.first_seq !== undefined) return Number(rows[0].first_seq);
    return new Map(rows.map((r) => [r.session_id!, r.version!]));
  }

  /**
   * The connection commits go through: one, kept open, since this store commits one batch at a
   * time (group commit) and a pool checkout per commit costs more than the commit's own work.
   */
  private writerConnection(): Promise<pg.Client> {
    this.writer ??= withRetry('connecting', async () => {
      const client = new pg.Client({ connectionString: this.options.connectionString, application_name: this.applicationName });
      // A connection cut while idle: the next commit opens another.
      client.on('error', () => this.dropWriter());
      await client.connect();
      return client;
    }).catch((error: unknown) => {
      this.writer = null;
      throw error;
    });
    return this.writer;
  }

  private dropWriter(): void {
    const writer = this.writer;
    this.writer = null;
    void writer?.then((client) => client.end()).catch(() => undefined);
  }

  /**
   * Hands this store's own committed events to the sink without reading them back. When other
   * writers committed between what it has read and them, it reads only those first: they all
   * committed before this commit took the lock, so all are there to read.
   */
  private deliverOwn(events: SessionEvent[]): Promise<number> {
    const first = events[0]!.seq;
    const last = events.at(-1)!.seq;
    this.reading = this.reading.catch(() => 0).then(async () => {
      if (this.position.seq >= last) return 0;
      let read = 0;
      if (this.position.seq < first - 1) read = await this.readNew(first);
      // Read past them meanwhile, or short of them: the log is the truth, read it.
      if (this.position.seq !== first - 1) return read + (await this.readNew());
      this.sink!.apply(events);
      this.position = { seq: last, position: {} };
      return read + events.length;
    });
    return this.reading;
  }
}

/** The sessions a batch touches: those it expects a revision of, and those it appends to. */
function sessionsOf(batch: readonly PendingAppend[]): string[] {
  // Plain loops: spreading each request's iterators cost more than the rest of the stamp.
  const ids = new Set<string>();
  for (const { request } of batch) {
    for (const id of request.expectedRevisions.keys()) ids.add(id);
    for (const event of request.events) ids.add(event.sessionId);
  }
  return [...ids];
}

function uniqueViolation(error: unknown): SessionError | null {
  if ((error as { code?: string }).code !== '23505') return null;
  return new SessionError('CONFLICT', `another writer appended first: ${(error as Error).message}`, { cause: error });
}

/** A query within a snapshot: `%s` in its text stands for the store's schema; values are bound. */
export type SnapshotQuery = <R extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;

/** A query refused because the schema's table does not exist yet (a new schema): nothing is stored there. */
function isMissingTable(error: unknown): boolean {
  return (error as { cause?: { code?: string } }).cause?.code === '42P01';
}
