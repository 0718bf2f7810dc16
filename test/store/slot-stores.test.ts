import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSlotTable } from '../../src/store/file/file-slots.js';
import { SlotTable } from '../../src/store/slot-store.js';
import { PostgresEventStore, SessionError } from '../../src/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/*
 * The slot table of each store as many managers use it at once: every change is one critical
 * section, so however many tables (standing for processes and hosts) ask at the same moment,
 * no more hold a slot than the limit, every grant has its own token, and leases run out by
 * the store's clock.
 */

interface Place {
  /** A table on the shared place, as another process would open it. */
  open(): SlotTable;
  dir: string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0)) await clean();
});

const KINDS: Array<{ name: string; place: () => Promise<Place> }> = [
  {
    name: 'file',
    place: async () => {
      const { dir, cleanup } = await tempDir();
      cleanups.push(cleanup);
      return { dir, open: () => new SlotTable(new FileSlotTable(dir)) };
    },
  },
  {
    name: 'postgres',
    place: async () => {
      const schema = freshSchema();
      const stores: PostgresEventStore[] = [];
      cleanups.push(async () => {
        for (const store of stores) await store.close();
        await dropSchema(schema);
      });
      return {
        dir: '',
        open: () => {
          const store = new PostgresEventStore({ connectionString: PG_URL, schema });
          stores.push(store);
          return new SlotTable(store.slots);
        },
      };
    },
  },
];

const ask = (holder: string, leaseMs = 10_000, agent = 'CodeGenAgent', keeper = 'vm/1/-') => ({ holder, agent, pipeline: null, keeper, leaseMs });

describe.each(KINDS)('the slot table on $name', ({ place }) => {
  it('grants no more than the limit to many tables asking at once, each grant its own token, the rest queued in order', async () => {
    const shared = await place();
    const tables = [shared.open(), shared.open(), shared.open(), shared.open()];
    await tables[0]!.setLimit({ limit: 3 });
    const holders = Array.from({ length: 20 }, () => uuidv4());
    const answers = await Promise.all(holders.map((holder, i) => tables[i % tables.length]!.enter(ask(holder))));
    const granted = answers.filter((a) => a.granted);
    expect(granted).toHaveLength(3);
    expect(new Set(granted.map((a) => a.granted && a.token)).size).toBe(3);
    const view = await tables[1]!.view();
    expect(view.running).toHaveLength(3);
    expect(view.queue.map((e) => e.holder)).toHaveLength(17);
    // Handing a slot back serves the oldest waiter.
    const first = view.running[0]!;
    await tables[2]!.release(first.holder, first.token!);
    const next = await tables[3]!.enter(ask(view.queue[0]!.holder));
    expect(next.granted).toBe(true);
    expect(next.granted && next.token).toBeGreaterThan(Math.max(...view.running.map((e) => e.token!)));
    const second = await tables[0]!.enter(ask(view.queue[1]!.holder));
    expect(second).toEqual({ granted: false, position: 1, waiting: 16 });
  });

  it('frees a slot nobody renews once its lease runs out, and refuses the late holder', async () => {
    const shared = await place();
    const table = shared.open();
    await table.setLimit({ limit: 1 });
    const [a, b] = [uuidv4(), uuidv4()];
    const first = await table.enter(ask(a, 300));
    expect(first.granted).toBe(true);
    expect((await table.enter(ask(b, 5_000))).granted).toBe(false);
    expect(await table.renew(a, (first as { token: number }).token)).toBe(true);
    await sleep(450);
    const later = await shared.open().enter(ask(b, 5_000));
    expect(later.granted).toBe(true);
    expect(await table.renew(a, (first as { token: number }).token)).toBe(false);
    // An adopter takes b's slot over from its dead keeper: b's old token is fenced off.
    const claimed = (await shared.open().claim(ask(b, 5_000, 'CodeGenAgent', 'vm/2/-'), 'vm/1/-')) as { token: number };
    expect(claimed.token).toBeGreaterThan((later as { token: number }).token);
    // A second adopter finds it kept by a live one, and leaves it alone.
    expect(await shared.open().claim(ask(b, 5_000, 'CodeGenAgent', 'vm/3/-'), 'vm/1/-')).toBe('kept');
    expect(await table.renew(b, (later as { token: number }).token)).toBe(false);
    expect(await table.renew(b, claimed.token)).toBe(true);
  });

  it('keeps nothing without a limit, and a limit of 0 or a bad agent name is refused with nothing changed', async () => {
    const shared = await place();
    const table = shared.open();
    expect(await table.enter(ask(uuidv4()))).toEqual({ granted: true, token: null });
    expect((await table.view()).running).toHaveLength(0);
    const { SessionManager } = await import('../../src/index.js');
    const cache = shared.dir === '' ? await tempDir() : null;
    const schema = freshSchema();
    if (cache !== null) cleanups.push(async () => {
      await cache.cleanup();
      await dropSchema(schema);
    });
    const manager = await SessionManager.open(cache?.dir ?? shared.dir, cache === null ? {} : { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
    try {
      for (const bad of [{ limit: 0 }, { limit: 1.5 }, { limit: -1 }, {}, { perAgent: { 'bad name': 1 } }, { limit: '2' }]) {
        const error = await manager.setConcurrencyLimit(bad as never).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SessionError);
        expect((error as SessionError).code).toBe('INVALID_INPUT');
      }
      expect((await manager.concurrency()).limit).toBeNull();
    } finally {
      await manager.close();
    }
  });
});

describe('the file slot table', () => {
  it('never overwrites a slots.json it did not write', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    await writeFile(join(dir, 'slots.json'), '{"mine": true}\n');
    const table = new SlotTable(new FileSlotTable(dir));
    await expect(table.setLimit({ limit: 2 })).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining('not a slot table this library wrote') });
    expect(await readFile(join(dir, 'slots.json'), 'utf8')).toBe('{"mine": true}\n');
  });
});
