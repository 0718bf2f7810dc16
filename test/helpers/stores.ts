import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { join } from 'node:path';
import { FileEventStore, PostgresEventStore, SessionManager, type EventStore, type SessionEvent } from '../../src/index.js';
import { storeFromSpec } from '../../src/cli/open-store.js';
import { copyEvents } from '../../src/copy/copy-events.js';
import { writeBigLog } from '../../bench/big-log.js';
import { tempDir } from './fixtures.js';

/** The PostgreSQL the tests use (CI starts it on 127.0.0.1:5432, trust auth, database test). */
export const PG_URL = process.env['MIYABI_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A place two stores can share: a directory for files, a fresh schema for PostgreSQL. */
export interface StoreKind {
  name: string;
  /** A new place; `open` gives a store on it (call it twice for two writers). */
  place(dir: string): { open: () => EventStore; drop: () => Promise<void> };
}

/** A unique schema name for one test. */
export function freshSchema(): string {
  return `miyabi_t_${uuidv4().replaceAll('-', '').slice(0, 16)}`;
}

/** Drops a test schema. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/** A PostgreSQL schema holding a pipeline log of about `events` events, copied in from files (which stay, for a comparison). */
export interface SeededSchema {
  schema: string;
  /** The file store the events came from. */
  dir: string;
  open(): PostgresEventStore;
  drop(): Promise<void>;
}

/** Writes a log of about `events` events (bench/big-log.ts) and copies it into a fresh schema. */
export async function seededSchema(events: number): Promise<SeededSchema> {
  const schema = freshSchema();
  const { dir, cleanup } = await tempDir();
  const open = () => new PostgresEventStore({ connectionString: PG_URL, schema });
  await writeBigLog(dir, events, 0.25);
  await copyEvents(new FileEventStore(dir), open());
  return {
    schema,
    dir,
    open,
    drop: async () => {
      await dropSchema(schema);
      await cleanup();
    },
  };
}

/** Both stores, for the suites that must hold for every store. */
export const STORE_KINDS: StoreKind[] = [
  { name: 'file', place: (dir) => ({ open: () => new FileEventStore(dir), drop: async () => {} }) },
  {
    name: 'postgres',
    place: () => {
      const schema = freshSchema();
      return { open: () => new PostgresEventStore({ connectionString: PG_URL, schema }), drop: () => dropSchema(schema) };
    },
  },
];

/** Both stores as a child process names them: a directory, or `postgres://…#schema` (a fresh schema), each with its drop. */
export const STORE_SPECS = [
  { name: 'file', spec: (dir: string) => ({ spec: join(dir, 'store'), drop: async () => {} }) },
  {
    name: 'postgres',
    spec: (_dir: string) => {
      const schema = freshSchema();
      return { spec: `${PG_URL}#${schema}`, drop: () => dropSchema(schema) };
    },
  },
];

/** Every event the store named by `spec` holds, read without a lock (as the read commands read). */
export async function eventsOfSpec(spec: string): Promise<SessionEvent[]> {
  const reader = storeFromSpec(spec);
  try {
    const read = await reader.readRecords(null);
    const events: SessionEvent[] = [];
    for await (const batch of read.records) events.push(...batch.map((r) => r.event));
    return events;
  } finally {
    await reader.close();
  }
}

/** A manager without a runner on the store named by `spec`; a PostgreSQL store's cache goes to `cacheDir`. */
export function openSpec(spec: string, cacheDir: string): Promise<SessionManager> {
  return spec.startsWith('postgres') ? SessionManager.open(cacheDir, { store: storeFromSpec(spec) }) : SessionManager.open(spec);
}
