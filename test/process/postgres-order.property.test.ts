import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileEventStore, PostgresEventStore, SessionManager, emptySessionsState, evolveSessions, type SessionEvent } from '../../src/index.js';
import { copyEvents } from '../../src/copy/copy-events.js';
import { startChild, waitForLine } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** Every event of a store, read through `connect` (the path a manager's catch-up takes). */
async function readThroughSink(store: PostgresEventStore): Promise<SessionEvent[]> {
  const state = emptySessionsState();
  const seen: SessionEvent[] = [];
  await store.connect({ apply: (events) => events.forEach((e) => (evolveSessions(state, e), seen.push(e))), revisionOf: (id) => state.sessions.get(id)?.revision ?? 0 }, null);
  await store.close();
  return seen;
}

async function readAll(store: PostgresEventStore): Promise<SessionEvent[]> {
  const all: SessionEvent[] = [];
  for await (const batch of store.readAll()) all.push(...batch);
  await store.close();
  return all;
}

describe('PostgreSQL: one order for every reader', () => {
  it('hosts appending in rounds of random sizes at once: one gap-free order, the same for every reader, and the file store fed it replays the same', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (hosts, seed) => {
          const schema = freshSchema();
          const { dir, cleanup } = await tempDir();
          try {
            const places = hosts.map((_, i) => join(dir, `host-${i}`));
            const children = hosts.map((rounds, i) => startChild('pg-commander', [places[i]!, PG_URL, schema, String(seed + i), rounds.join(',')]));
            await waitForLine(children, 'ready', 30_000, 'every host to open the store');
            await Promise.all(places.map((place) => writeFile(join(place, 'go'), '')));
            const left = await Promise.all(children.map(async ({ lines, exited }) => {
              const { code, stderr } = await exited;
              expect(code, stderr).toBe(0);
              return JSON.parse(lines.at(-1)!) as Record<string, string>;
            }));

            const open = () => new PostgresEventStore({ connectionString: PG_URL, schema });
            const [viaReadAll, viaSink] = await Promise.all([readAll(open()), readThroughSink(open())]);
            // One gap-free order, identical for both ways of reading.
            expect(viaReadAll.map((e) => e.seq)).toEqual(viaReadAll.map((_, i) => i + 1));
            expect(viaSink.map((e) => e.id)).toEqual(viaReadAll.map((e) => e.id));
            expect(new Set(viaReadAll.map((e) => e.id)).size).toBe(viaReadAll.length);

            // What each host was told is what every reader sees.
            const reader = await SessionManager.open(join(dir, 'reader'), { store: open() });
            const sessions = new Map((await reader.listSessions()).map((s) => [s.id, s.status]));
            await reader.close();
            for (const host of left) for (const [id, status] of Object.entries(host)) expect(sessions.get(id)).toBe(status);
            expect(sessions.size).toBe(left.reduce((n, host) => n + Object.keys(host).length, 0));

            // The file store fed the same events in that order replays to the same sessions.
            const copy = await copyEvents(open(), new FileEventStore(join(dir, 'file')));
            expect(copy.identical).toBe(true);
            expect(copy.events).toBe(viaReadAll.length);
          } finally {
            await dropSchema(schema);
            await cleanup();
          }
        },
      ),
      { numRuns: 4 },
    );
  }, 180_000);
});
