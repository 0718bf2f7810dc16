import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileEventStore, PostgresEventStore, SessionManager, type EventStore } from '../../src/index.js';
import { conversationMessages } from '../../src/domain/conversation.js';
import { phraseFinder } from '../../src/domain/conversation-search.js';
import { searchConversations, type SearchHit } from '../../src/query/conversation-search.js';
import { readFileSessions, readPostgresSessions } from '../../src/query/session-reads.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';
import { transcriptOf } from '../helpers/transcripts.js';

/*
 * Whatever the index keeps (signatures on files, lexemes on PostgreSQL), a search answers what
 * checking every message of every stored conversation answers, page after page.
 */
const WORDS = ['deploy', 'Deploy', 'DEPLOYMENT', 'rollback', 'step', 'café', 'CAFÉ', 'x_1', '42', 'naïve', 'it', "it's", 'straße', '日本'];
const SEPARATORS = [' ', '  ', '\n', ', ', '. ', '-', '(', ')', "'", ' $ ', '\t'];
const text = fc.array(fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...SEPARATORS)), { minLength: 1, maxLength: 12 }).map((parts) => parts.map(([w, s]) => w + s).join(''));
const conversation = fc.array(fc.tuple(fc.constantFrom<'user' | 'assistant'>('user', 'assistant'), text), { minLength: 1, maxLength: 4 });
const store = fc.array(conversation, { minLength: 1, maxLength: 6 });
const query = fc.oneof(
  fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 }).map((words) => words.join(' ')),
  fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...SEPARATORS), fc.constantFrom(...WORDS)).map(([a, s, b]) => a + s + b),
);

const KINDS = [
  { name: 'file', runs: 25, open: (dir: string) => ({ open: (): EventStore => new FileEventStore(join(dir, 'store')), drop: async () => {} }) },
  {
    name: 'postgres',
    runs: 8,
    open: () => {
      const schema = freshSchema();
      return { open: (): EventStore => new PostgresEventStore({ connectionString: PG_URL, schema }), drop: () => dropSchema(schema) };
    },
  },
];

for (const kind of KINDS) {
  describe(`a search of the stored conversations (${kind.name} store)`, () => {
    it('finds exactly the messages that hold the text, over every page', async () => {
      await fc.assert(
        fc.asyncProperty(store, fc.array(query, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), async (conversations, queries, limit) => {
          const { dir, cleanup } = await tempDir();
          const place = kind.open(dir);
          try {
            const manager = await SessionManager.open(join(dir, kind.name === 'file' ? 'store' : 'cache'), kind.name === 'file' ? {} : { store: place.open() });
            const ids: string[] = [];
            for (const _ of conversations) ids.push((await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor('CodeGeneration', 1))).id);
            await manager.close();
            const opened = place.open();
            const contents = conversations.map((messages) => transcriptOf(...messages));
            for (const [i, id] of ids.entries()) await opened.transcripts!.save(id, contents[i]!);
            const read = <T>(work: (reads: Parameters<Parameters<typeof readFileSessions>[1]>[0]) => Promise<T>) =>
              opened instanceof PostgresEventStore ? readPostgresSessions(opened, work) : readFileSessions(join(dir, 'store'), work);
            // And a phrase someone said (two words and what is between them): the index's pairs must hold it.
            const said = conversations.flatMap((messages) => messages.map(([, text]) => /[\p{L}\p{N}_]+[^\p{L}\p{N}_]+[\p{L}\p{N}_]+/u.exec(text)?.[0])).find((phrase) => phrase !== undefined);
            for (const words of said === undefined ? queries : [...queries, said]) {
              const finder = phraseFinder(words);
              // Newest stored first, each conversation's messages in order.
              const expected = ids
                .flatMap((id, i) => conversationMessages(contents[i]!).map((m, message) => ({ id, message, hit: finder.find(m.text) !== null })))
                .filter((m) => m.hit)
                .sort((a, b) => ids.indexOf(b.id) - ids.indexOf(a.id) || a.message - b.message)
                .map((m) => `${m.id}:${m.message}`);
              const found: SearchHit[] = [];
              let after: string | null = null;
              for (let pages = 0; pages < 50; pages += 1) {
                const page = await read((reads) => searchConversations(reads, opened.transcripts!, { text: words, limit, after }));
                found.push(...page.hits);
                after = page.next;
                if (after === null) break;
              }
              expect(found.map((hit) => `${hit.sessionId}:${hit.message}`)).toEqual(expected);
            }
            await opened.close();
          } finally {
            await place.drop();
            await cleanup();
          }
        }),
        { numRuns: kind.runs },
      );
    }, 120_000);
  });
}
