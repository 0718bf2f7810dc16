import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { FileEventStore, PostgresEventStore, type EventStore } from '../../src/index.js';

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
