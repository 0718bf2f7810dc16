import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionManager } from '../../manager/session-manager.js';
import { parseSessionsFile, sameSessions, type Checkpoint } from '../../checkpoint/sessions-file.js';
import { checksumHolds, loadSessionsFile } from '../../checkpoint/load-sessions-file.js';
import { SessionMap } from '../../checkpoint/session-map.js';
import { isSessionError } from '../../errors.js';
import type { Session } from '../../domain/session.js';
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
    if (context.values['store'] !== undefined) throw new UsageError(`${this.name} checks a file store's sessions.json against its log, and a PostgreSQL store has none: \`audit --store\` checks its events, \`migrate --store\` brings its sessions table level (use --dir)`);
    const { events, sessions, lastSeq, storedSeq, verdict, ms } = await checkAgainstLog(context.dir);
    const write = context.values['write'] === true;
    if (write) {
      const manager = await SessionManager.open(context.dir);
      await manager.replay();
      await manager.close();
    }
    const report = { events, sessions, lastSeq, storedSeq, sessionsJson: verdict, rewritten: write, ms };
    if (context.json) printJson(report);
    else {
      print(`replayed ${report.events} events, ${report.sessions} sessions, in ${ms} ms`);
      const covers = storedSeq === null ? '' : ` covers seq ${storedSeq} of ${lastSeq}:`;
      print(`sessions.json${covers} ${{ matches: 'matches the log', differs: 'DIFFERS from the log', missing: 'is missing', corrupt: 'is unreadable or was edited' }[verdict]}${write ? ' (rewritten from the log)' : ''}`);
    }
    return verdict === 'matches' || write ? EXIT.OK : EXIT.FINDINGS;
  },
};

/**
 * Folds the whole log and compares sessions.json with it where the file says it stands. Its own
 * function so that the fold is let go when it returns, before a rewrite folds the log again (two
 * folds of 250,000 sessions held at once took twice the memory).
 */
async function checkAgainstLog(dir: string): Promise<{ events: number; sessions: number; lastSeq: number; storedSeq: number | null; verdict: Verdict; ms: number }> {
  const path = join(dir, 'sessions.json');
  // Loaded without reading its records: each is read when compared, one at a time, so memory
  // holds the fold and one record (parsed whole, 250,000 sessions' file took 1.3 GB).
  const loaded = await loadSessionsFile(path);
  let verdict: Verdict = loaded === 'missing' ? 'missing' : 'corrupt';
  let stored: Checkpoint | null = null;
  if (loaded !== 'missing' && (await checksumHolds(path))) {
    // A whole file without its record index (an exported copy, an index lost) is parsed whole.
    stored = typeof loaded === 'string' ? await parsedWhole(path) : loaded;
  } else if (typeof loaded !== 'string') discard(loaded);
  const storedSeq = stored?.cursor.seq ?? null;
  // How far the log reaches, for the progress bar (records count in the same unit: `end / size`).
  const size = (await new FileEventStore(dir).readRecords(null)).size;
  const progress = progressBar('replaying', size, 'bytes');
  const started = performance.now();
  // A checkpoint of the empty store covers no event: check it against the state before the first.
  if (stored !== null && storedSeq === 0) verdict = stored.state.sessions.size === 0 ? 'matches' : 'differs';
  const { eventsRead, state } = await readStore(dir, undefined, (record, state) => {
    // The file is written in place (records in any order, blanked ones in between): compare what it says.
    if (stored !== null && record.event.seq === storedSeq) verdict = compared(state.sessions, stored);
    progress.tick(record.end);
  });
  progress.done();
  if (stored !== null) discard(stored);
  if (storedSeq !== null && storedSeq > state.lastSeq) verdict = 'differs';
  return { events: eventsRead, sessions: state.sessions.size, lastSeq: state.lastSeq, storedSeq, verdict, ms: Math.round(performance.now() - started) };
}

/** How the file's sessions compare with the log's: a record found bad as it is read makes the file corrupt. */
function compared(folded: ReadonlyMap<string, Session>, stored: Checkpoint): Verdict {
  try {
    return sameSessions(folded, stored.state.sessions) ? 'matches' : 'differs';
  } catch (error) {
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return 'corrupt';
    throw error;
  }
}

async function parsedWhole(path: string): Promise<Checkpoint | null> {
  try {
    return parseSessionsFile(await readFile(path), path);
  } catch {
    return null;
  }
}

/** Closes a loaded file's records unread. */
function discard(stored: Checkpoint): null {
  if (stored.state.sessions instanceof SessionMap) stored.state.sessions.discard();
  return null;
}
