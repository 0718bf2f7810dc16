import pg from 'pg';
import { SessionError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import type { AppendRequest, ConnectReport, EventSink, EventStore, StoreCursor } from '../event-store.js';
import { stampBatch } from '../file/stamp-batch.js';
import { GroupCommit, type PendingAppend } from '../group-commit.js';
import { channelOf, checkSchemaName, migrationSql } from './schema.js';
import { isTransient, withRetry } from './with-retry.js';

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


const PAGE = 5000;

/**
 * An event store in PostgreSQL, for agents on many hosts sharing one record of sessions.
 * Appends from one process are group-committed in one transaction that holds a transaction-level
 * advisory lock (so `seq` stays gap-free), checks expected revisions, and inserts with a
 * per-session version under a unique constraint; a handoff's events share that transaction.
 * New events are announced with NOTIFY, and every store LISTENs, so other managers see them at once.
 */
export class PostgresEventStore implements EventStore {
  readonly location: string;
  private readonly schema: string;
  private readonly pool: pg.Pool;
  private listener: pg.Client | null = null;
  private sink: EventSink | null = null;
  private position: StoreCursor = { seq: 0, offset: 0, line: 0, lastLineOffset: 0 };
  private reading: Promise<number> = Promise.resolve(0);
  private readonly appends: GroupCommit;
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
    this.appends = new GroupCommit((batch) => this.commit(batch), options.maxBatch ?? 1000);
  }

  /** Creates the schema and tables if missing (idempotent); `connect` runs it too. */
  async migrate(): Promise<void> {
    await withRetry(`migrating ${this.location}`, () => this.pool.query(migrationSql(this.schema)));
  }

  async connect(sink: EventSink, from: StoreCursor | null): Promise<ConnectReport> {
    await this.migrate();
    this.sink = sink;
    if (from !== null) this.position = { ...from };
    const replayedEvents = await this.refresh();
    await this.listen();
    return { replayedEvents, tornTail: null };
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
      if ((error as { cause?: { code?: string } }).cause?.code === '42P01') return false;
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
    await this.pool.end();
  }

  private async readNew(): Promise<number> {
    let count = 0;
    for (;;) {
      const events = await this.page(this.position.seq);
      if (events.length === 0) return count;
      this.sink!.apply(events);
      const seq = events.at(-1)!.seq;
      this.position = { seq, offset: seq, line: seq, lastLineOffset: seq };
      count += events.length;
    }
  }

  private async page(after: number): Promise<SessionEvent[]> {
    const { rows } = await withRetry('reading events', () =>
      this.pool.query<{ event: SessionEvent }>(`SELECT event FROM ${this.schema}.events WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [after]),
    );
    return rows.map((r) => r.event);
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
    client.on('notification', () => void this.refresh().catch(() => undefined));
    this.listener = client;
    // Events committed while we were not listening.
    await this.refresh();
  }

  private async commit(batch: PendingAppend[]): Promise<void> {
    const refused: Array<[PendingAppend, unknown]> = [];
    const deferred = batch.map((p) => ({ ...p, reject: (error: unknown) => refused.push([p, error]) }));
    let accepted: Array<{ pending: (typeof deferred)[number]; stored: SessionEvent[] }> = [];
    let client: pg.PoolClient;
    try {
      client = await withRetry('connecting', () => this.pool.connect());
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    // A connection cut while checked out emits 'error' on the client; the failed query reports it.
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.schema]);
      const { rows: top } = await client.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM ${this.schema}.events`);
      const ids = [...new Set(batch.flatMap((p) => [...p.request.expectedRevisions.keys(), ...p.request.events.map((e) => e.sessionId)]))];
      const { rows: versions } = await client.query<{ session_id: string; version: number }>(
        `SELECT session_id::text, max(version) AS version FROM ${this.schema}.events WHERE session_id = ANY($1::uuid[]) GROUP BY session_id`,
        [ids],
      );
      const revisions = new Map(versions.map((r) => [r.session_id, r.version]));
      const stamped = stampBatch(deferred, Number(top[0]?.seq ?? 0), (id) => revisions.get(id) ?? 0, this.location);
      accepted = stamped.accepted;
      if (stamped.events.length > 0) await this.insert(client, stamped.events, revisions);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.off('error', ignore);
      client.release(isTransient(error) || (error as Error).message.includes('Connection terminated') ? true : undefined);
      const failure = error instanceof SessionError ? error : uniqueViolation(error) ?? new SessionError('STORAGE', `appending to ${this.location} failed: ${(error as Error).message}`, { cause: error });
      for (const p of batch) p.reject(failure);
      return;
    }
    client.off('error', ignore);
    client.release();
    // Catch up before answering, so a refused caller re-decides on the winner's events.
    await this.refresh().catch(() => undefined);
    for (const [p, error] of refused) p.reject(error);
    for (const { pending, stored } of accepted) pending.resolve(stored);
  }

  private async insert(client: pg.PoolClient, events: SessionEvent[], revisions: Map<string, number>): Promise<void> {
    const versions = events.map((e) => {
      const next = (revisions.get(e.sessionId) ?? 0) + 1;
      revisions.set(e.sessionId, next);
      return next;
    });
    await client.query(
      `INSERT INTO ${this.schema}.events (seq, id, session_id, version, type, event)
       SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::json[])`,
      [events.map((e) => e.seq), events.map((e) => e.id), events.map((e) => e.sessionId), versions, events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
    );
    await client.query('SELECT pg_notify($1, $2)', [channelOf(this.schema), String(events.at(-1)!.seq)]);
  }
}

function uniqueViolation(error: unknown): SessionError | null {
  if ((error as { code?: string }).code !== '23505') return null;
  return new SessionError('CONFLICT', `another writer appended first: ${(error as Error).message}`, { cause: error });
}
