import { appendFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileEventStore, PostgresEventStore, SessionManager, type EventStore, type Session } from '../../src/index.js';
import { searchConversations, type SearchPage } from '../../src/query/conversation-search.js';
import { readFileSessions, readPostgresSessions } from '../../src/query/session-reads.js';
import type { ConversationSearch } from '../../src/domain/conversation-search.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';
import { transcriptOf } from '../helpers/transcripts.js';
import { runCli } from '../helpers/cli.js';

const KINDS = [
  { name: 'file', place: (dir: string) => ({ open: (): EventStore => new FileEventStore(join(dir, 'store')), drop: async () => {} }) },
  {
    name: 'postgres',
    place: () => {
      const schema = freshSchema();
      return { open: (): EventStore => new PostgresEventStore({ connectionString: PG_URL, schema }), drop: () => dropSchema(schema), schema };
    },
  },
];

for (const kind of KINDS) {
  describe(`searching the stored conversations (${kind.name} store)`, () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let place: { store: EventStore; open: () => EventStore; drop: () => Promise<void>; schema?: string };
    let codegen: Session;
    let review: Session;
    let other: Session;
    const search = (query: ConversationSearch): Promise<SearchPage> => {
      const store = place.store;
      if (store instanceof PostgresEventStore) return readPostgresSessions(store, (reads) => searchConversations(reads, store.transcripts, query));
      return readFileSessions(join(dir, 'store'), (reads) => searchConversations(reads, store.transcripts!, query));
    };
    const ids = (page: SearchPage) => page.hits.map((hit) => `${hit.sessionId}:${hit.message}`);

    beforeAll(async () => {
      ({ dir, cleanup } = await tempDir());
      const made = kind.place(dir);
      place = { ...made, store: made.open() };
      const manager = place.store instanceof PostgresEventStore ? await SessionManager.open(join(dir, 'cache'), { store: place.store }) : await SessionManager.open(join(dir, 'store'));
      codegen = await manager.spawnAgentSession('CodeGenAgent', 'Implement X', contextFor('CodeGeneration', 7));
      review = await manager.handoff(codegen.id, 'ReviewAgent', contextFor('Review', 7));
      other = await manager.spawnAgentSession('CodeGenAgent', 'Implement Y', contextFor('CodeGeneration', 8));
      await manager.close();
      // The manager closed its store: a new one, as another process would open it.
      place.store = place.open();
      const transcripts = place.store.transcripts!;
      await transcripts.save(codegen.id, transcriptOf(['user', 'Implement X'], ['assistant', 'The migration needs a Rollback   step before we deploy.']));
      await transcripts.save(
        other.id,
        transcriptOf(['user', 'Implement Y'], ['assistant', "Deploying now. It's done: drop table x; -- $(rm -rf) .*+? nul\u0000here \ud800lone"]),
      );
      await transcripts.save(review.id, transcriptOf(['user', 'Review X'], ['assistant', 'Looks good: the rollback step\nis covered.']));
    }, 60_000);
    afterAll(async () => {
      await place.store.close();
      await place.drop();
      await cleanup();
    });

    it('finds a phrase, ignoring case and runs of white space, each hit naming its session, pipeline and issue', async () => {
      const page = await search({ text: 'rollback step' });
      // The most recently stored conversation first.
      expect(ids(page)).toEqual([`${review.id}:1`, `${codegen.id}:1`]);
      expect(page.hits[0]).toMatchObject({ agentName: 'ReviewAgent', issue: 7, phase: 'Review', status: 'Active', pipeline: codegen.id, role: 'assistant' });
      expect(page.hits[0]!.excerpt).toEqual({ before: 'Looks good: the ', match: 'rollback step', after: '\nis covered.' });
      expect(page.hits[1]).toMatchObject({ pipeline: codegen.id, excerpt: { match: 'Rollback   step' } });
      expect(page).toMatchObject({ next: null, searched: 3, sessions: 3 });
    });

    it('matches whole words only, and a phrase nobody said finds nothing', async () => {
      expect(ids(await search({ text: 'deploy' }))).toEqual([`${codegen.id}:1`]);
      expect(ids(await search({ text: 'deploying' }))).toEqual([`${other.id}:1`]);
      expect((await search({ text: 'step rollback' })).hits).toEqual([]);
      expect((await search({ text: 'nobody ever said this' })).hits).toEqual([]);
    });

    it('searches text with SQL and regex metacharacters as plain text', async () => {
      expect(ids(await search({ text: "it's DONE" }))).toEqual([`${other.id}:1`]);
      expect(ids(await search({ text: 'drop table x; -- $(rm -rf) .*+?' }))).toEqual([`${other.id}:1`]);
      expect((await search({ text: 'drop table y; --' })).hits).toEqual([]);
      expect((await search({ text: "x'; DROP TABLE transcripts; --" })).hits).toEqual([]);
      expect(ids(await search({ text: 'nul' }))).toEqual([`${other.id}:1`]);
      await expect(search({ text: '.*' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('at least one word') });
    });

    it('narrows by agent and issue, and pages with a cursor', async () => {
      expect(ids(await search({ text: 'rollback step', agent: 'CodeGenAgent' }))).toEqual([`${codegen.id}:1`]);
      expect(ids(await search({ text: 'implement', issue: 8 }))).toEqual([`${other.id}:0`]);
      expect((await search({ text: 'implement', since: '2999-01-01T00:00:00Z' })).hits).toEqual([]);
      const first = await search({ text: 'rollback step', limit: 1 });
      expect(ids(first)).toEqual([`${review.id}:1`]);
      const second = await search({ text: 'rollback step', limit: 1, after: first.next });
      expect(ids(second)).toEqual([`${codegen.id}:1`]);
      expect(second.next).toBeNull();
      await expect(search({ text: 'rollback', after: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('searches a conversation stored again as it now is', async () => {
      await place.store.transcripts!.save(other.id, transcriptOf(['assistant', 'A brand new conversation']));
      expect(ids(await search({ text: 'brand new' }))).toEqual([`${other.id}:0`]);
      expect((await search({ text: 'deploying' })).hits).toEqual([]);
    });

    it('indexes conversations it has no index of (stored by an earlier version) at the next search', async () => {
      if (place.store instanceof PostgresEventStore) {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        const forget = async () => {
          await client.query(`DELETE FROM ${place.schema}.transcript_messages`);
          await client.query(`UPDATE ${place.schema}.transcripts SET indexed_sha256 = NULL`);
        };
        // `migrate` indexes them (and says so); failing that, the next search does.
        await forget();
        const migrated = await runCli(['migrate', '--store', `${PG_URL}#${place.schema}`]);
        expect(migrated.stdout).toContain('(3 conversations indexed for search)');
        expect(ids(await search({ text: 'brand new' }))).toEqual([`${other.id}:0`]);
        await forget();
        await client.end();
      } else {
        const index = join(dir, 'store', 'transcripts', 'words.idx');
        await rm(index);
        await search({ text: 'rollback step' });
        expect((await stat(index)).size).toBeGreaterThan(0);
        // A torn line (a crash in the middle of an append) is skipped, and what follows is read.
        await appendFile(index, 'f00d torn line without its check');
        await place.store.transcripts!.save(codegen.id, transcriptOf(['assistant', 'The migration needs a Rollback   step before we deploy. Zebra crossing.']));
        expect(ids(await search({ text: 'zebra crossing' }))).toEqual([`${codegen.id}:0`]);
      }
      const codegenMessage = place.store instanceof PostgresEventStore ? 1 : 0;
      expect(ids(await search({ text: 'rollback step' })).sort()).toEqual([`${review.id}:1`, `${codegen.id}:${codegenMessage}`].sort());
      expect((await search({ text: 'rollback step' })).searched).toBe(3);
    });
  });
}
