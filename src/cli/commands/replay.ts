import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionManager } from '../../manager/session-manager.js';
import { parseSessionsFile, sameSessions, type Checkpoint } from '../../checkpoint/sessions-file.js';
import { readStore } from '../../query/read-store.js';
import { FileEventStore } from '../../store/file/file-event-store.js';
import { UsageError, type Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson } from '../format.js';
import { progressBar } from '../progress.js';

type Verdict = 'matches' | 'differs' | 'missing' | 'corrupt';

/**
 * `replay`: rebuilds every projection from the log alone and says whether the stored
 * sessions.json is exactly what the log gives at the point it claims to cover.
 */
export const replayCommand: Command = {
  name: 'replay',
  summary: 'rebuild all projections from the log and check sessions.json against it (--write to rewrite it)',
  usage: 'replay [--write]',
  options: { write: { type: 'boolean', default: false } },
  example: 'replayed 4 events, 4 sessions, in 12 ms\nsessions.json covers seq 4 of 4: matches the log',
  async run(context) {
    if (context.values['store'] !== undefined) throw new UsageError(`${this.name} reads the file log; PostgreSQL enforces the same rules with constraints (use --dir)`);
    const path = join(context.dir, 'sessions.json');
    const storedBytes = await readFile(path).catch(() => null);
    let stored: Checkpoint | null = null;
    let verdict: Verdict = storedBytes === null ? 'missing' : 'corrupt';
    try {
      if (storedBytes !== null) stored = parseSessionsFile(storedBytes, path);
    } catch {
      stored = null;
    }
    const storedSeq = stored?.cursor.seq ?? null;
    // How far the log reaches, for the progress bar (records count in the same unit: `end / size`).
    const size = (await new FileEventStore(context.dir).readRecords(null)).size;
    const progress = progressBar('replaying', size, 'bytes');
    const started = performance.now();
    // A checkpoint of the empty store covers no event: check it against the state before the first.
    if (stored !== null && storedSeq === 0) verdict = stored.state.sessions.size === 0 ? 'matches' : 'differs';
    const view = await readStore(context.dir, undefined, (record, state) => {
      // The file is written in place (records in any order, blanked ones in between): compare what it says.
      if (stored !== null && record.event.seq === storedSeq) verdict = sameSessions(state.sessions, stored.state.sessions) ? 'matches' : 'differs';
      progress.tick(record.end);
    });
    progress.done();
    if (storedSeq !== null && storedSeq > view.state.lastSeq) verdict = 'differs';
    const ms = Math.round(performance.now() - started);
    const write = context.values['write'] === true;
    if (write) {
      const manager = await SessionManager.open(context.dir);
      await manager.replay();
      await manager.close();
    }
    const report = { events: view.eventsRead, sessions: view.state.sessions.size, lastSeq: view.state.lastSeq, storedSeq, sessionsJson: verdict, rewritten: write, ms };
    if (context.json) printJson(report);
    else {
      print(`replayed ${report.events} events, ${report.sessions} sessions, in ${ms} ms`);
      const covers = storedSeq === null ? '' : ` covers seq ${storedSeq} of ${view.state.lastSeq}:`;
      print(`sessions.json${covers} ${{ matches: 'matches the log', differs: 'DIFFERS from the log', missing: 'is missing', corrupt: 'is unreadable or was edited' }[verdict]}${write ? ' (rewritten from the log)' : ''}`);
    }
    return verdict === 'matches' || write ? EXIT.OK : EXIT.FINDINGS;
  },
};

