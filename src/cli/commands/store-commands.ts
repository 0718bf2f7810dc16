import { join } from 'node:path';
import { assertOwnSessionsFile } from '../../checkpoint/foreign-sessions-file.js';
import { copyEvents } from '../../copy/copy-events.js';
import { FileEventStore } from '../../store/file/file-event-store.js';
import { migrationSql } from '../../store/postgres/schema.js';
import { PostgresEventStore } from '../../store/postgres/postgres-event-store.js';
import { UsageError, stringOption, type Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson } from '../format.js';
import { progressReporter } from '../progress.js';
import { SessionsTableFolder } from '../../projections/sessions-table-folder.js';
import { contextStore, storeFromSpec } from '../open-store.js';

/** `migrate`: prints the PostgreSQL schema migration, or applies it to --store. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'print the PostgreSQL migration (--print [--schema S]) or apply it to --store (idempotent; fills the sessions table and the search index of a store made by an earlier version)',
  usage: 'migrate --print [--schema S] | migrate --store postgres://…[#schema]',
  options: { print: { type: 'boolean', default: false }, schema: { type: 'string' } },
  async run(context) {
    if (context.values['print'] === true) {
      process.stdout.write(migrationSql(stringOption(context, 'schema') ?? 'miyabi'));
      return EXIT.OK;
    }
    const store = contextStore(context);
    if (!(store instanceof PostgresEventStore)) throw new UsageError('give --print, or --store postgres://…');
    let folded: number;
    let indexed: number;
    try {
      // Migrates first, then fills the sessions table of a schema made by an earlier version from its events.
      const progress = progressReporter('folding', 'events');
      folded = await store.catchUpSessionsTable(new SessionsTableFolder(), progress.report);
      progress.done();
      // Conversations stored by an earlier version become searchable; the planner learns the tables.
      indexed = await store.transcripts.indexUnindexed();
      await store.analyze();
    } finally {
      await store.close();
    }
    const done = [folded > 0 ? `${folded} events folded into the sessions table` : '', indexed > 0 ? `${indexed} conversations indexed for search` : ''].filter(Boolean);
    print(`migrated ${store.location}${done.length > 0 ? ` (${done.join('; ')})` : ''}`);
    return EXIT.OK;
  },
};

/** `copy --from A --to B`: copies a store (directory or postgres url) into an empty one and verifies it. */
export const copyCommand: Command = {
  name: 'copy',
  summary: 'copy every event from one store into an empty one (dir or postgres://…) and verify both replay the same',
  usage: 'copy --from <dir|postgres://…> --to <dir|postgres://…>',
  options: { from: { type: 'string' }, to: { type: 'string' } },
  example: 'copied 16 events (4 sessions, 3 transcripts) from .ai/sessions to postgres://postgres@127.0.0.1:5432/test#miyabi: identical',
  async run(context) {
    const from = stringOption(context, 'from');
    const to = stringOption(context, 'to');
    if (from === undefined || to === undefined) throw new UsageError('--from and --to are required');
    const source = storeFromSpec(from);
    const target = storeFromSpec(to);
    // Neither an original's store read as empty, nor one written over.
    for (const store of [source, target]) if (store instanceof FileEventStore) await assertOwnSessionsFile(join(store.dir, 'sessions.json'), store);
    const progress = progressReporter('copying', source instanceof FileEventStore ? 'bytes' : 'events');
    const report = await copyEvents(source, target, progress.report);
    progress.done();
    const summary = { events: report.events, sessions: report.target.sessions.size, transcripts: report.transcripts, from: source.location, to: target.location, identical: report.identical };
    if (context.json) printJson(summary);
    else print(`copied ${summary.events} events (${summary.sessions} sessions, ${summary.transcripts} transcripts) from ${summary.from} to ${summary.to}: ${report.identical ? 'identical' : 'DIFFER'}`);
    return report.identical ? EXIT.OK : EXIT.FINDINGS;
  },
};
