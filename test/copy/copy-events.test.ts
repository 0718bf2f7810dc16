import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileEventStore, PostgresEventStore, SessionManager, renderSessionsFile } from '../../src/index.js';
import { copyEvents } from '../../src/copy/copy-events.js';
import { pipelineStore } from '../cli/fixtures.js';
import { tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

const ZERO = { seq: 0, position: {} };

describe('copying between stores', () => {
  it('file → PostgreSQL → file keeps every event, and all three replay to the same projections', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    try {
      const original = join(dir, 'original');
      await pipelineStore(original);
      const toPg = await copyEvents(new FileEventStore(original), new PostgresEventStore({ connectionString: PG_URL, schema }));
      expect(toPg).toMatchObject({ events: 7, identical: true });
      const back = join(dir, 'back');
      const toFile = await copyEvents(new PostgresEventStore({ connectionString: PG_URL, schema }), new FileEventStore(back));
      expect(toFile).toMatchObject({ events: 7, identical: true });
      expect(renderSessionsFile(toFile.target, ZERO)).toBe(renderSessionsFile(toPg.source, ZERO));
      // The copy is a store like any other: a manager opens it and carries on.
      const m = await SessionManager.open(back);
      expect((await m.getStats()).total).toBe(4);
      await m.close();
      await expect(copyEvents(new FileEventStore(original), new FileEventStore(back))).rejects.toMatchObject({ code: 'CONFLICT' });
      // A directory whose sessions.json came from another store opens on a new PostgreSQL schema: the cache is rebuilt.
      const fresh = freshSchema();
      try {
        const onPg = await SessionManager.open(original, { store: new PostgresEventStore({ connectionString: PG_URL, schema: fresh }) });
        expect(onPg.openReport.checkpoint).toBe('stale');
        expect((await onPg.getStats()).total).toBe(0);
        await onPg.close();
      } finally {
        await dropSchema(fresh);
      }
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
  });

  it('a target that stores an event otherwise is reported: not identical', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const original = join(dir, 'original');
      await pipelineStore(original);
      const target = new FileEventStore(join(dir, 'copy'));
      // A target that changes one purpose as it stores it: its sessions replay otherwise.
      const append = target.append.bind(target);
      target.append = (request) =>
        append({ ...request, events: request.events.map((e) => (e.type === 'SessionSpawned' && e.data.agentName === 'ReviewAgent' ? { ...e, data: { ...e.data, purpose: 'another' } } : e)) });
      expect(await copyEvents(new FileEventStore(original), target)).toMatchObject({ events: 7, identical: false });
    } finally {
      await cleanup();
    }
  });
});
