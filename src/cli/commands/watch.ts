import { watch as watchFile } from 'node:fs';
import { join } from 'node:path';
import ndjson from 'ndjson';
import type { SessionEvent } from '../../events/session-event.js';
import { evolveSessions } from '../../projections/sessions-projection.js';
import { readStore } from '../../query/read-store.js';
import { LOG_FILE } from '../../store/file/file-event-store.js';
import { LogScanner } from '../../store/file/log-scanner.js';
import { readLogChunks } from '../../store/file/read-log-chunks.js';
import { UsageError, intOption, type Command } from '../command.js';
import { issueLabel, print } from '../format.js';

/** One decoded event as a line for people. */
export function describeEvent(event: SessionEvent, agentName: string): string {
  const head = `${String(event.seq).padStart(6)} ${event.timestamp} ${event.sessionId.slice(0, 8)} ${agentName.padEnd(14)} ${event.type}`;
  switch (event.type) {
    case 'SessionSpawned':
      return `${head} phase=${event.data.context.currentPhase} issue=${issueLabel(event.data.context.issueNumber)}${event.data.parentSession === null ? '' : ` parent=${event.data.parentSession.slice(0, 8)}`}`;
    case 'SessionHandedOff':
      return `${head} → ${event.data.toAgent} (${event.data.childSession.slice(0, 8)})`;
    case 'SessionFailed':
      return `${head} error=${JSON.stringify(event.data.error)}`;
    case 'SessionAgentStarted':
      return `${head} pid=${event.data.process.pid}`;
    case 'SessionCompleted':
    case 'SessionAgentFinished':
      return event.data.result === undefined ? head : `${head} result=${JSON.stringify(event.data.result.output.slice(0, 80))}`;
  }
}

/**
 * `watch`: follows the log as any process appends to it, like `tail -f` but decoded; with
 * --json, one event per line (NDJSON). Reads only; stops on Ctrl-C or after --count events.
 */
export const watchCommand: Command = {
  name: 'watch',
  summary: 'follow the log live, decoded (--json: NDJSON), from the end or --from-start',
  usage: 'watch [--from-start] [--count N]',
  options: { 'from-start': { type: 'boolean', default: false }, count: { type: 'string' } },
  example: '     5 2026-11-25T16:30:10.896Z a9ab935e ReviewAgent    SessionSpawned phase=Review issue=#42 parent=31233063',
  async run(context) {
    if (context.values['store'] !== undefined) throw new UsageError(`${this.name} reads the file log; PostgreSQL enforces the same rules with constraints (use --dir)`);
    const limit = intOption(context, 'count');
    const fromStart = context.values['from-start'] === true;
    const view = await readStore(context.dir, fromStart ? { seq: 0 } : undefined);
    const state = view.state;
    const start = fromStart ? { offset: 0, line: 0, lastSeq: 0 } : { offset: view.cursor.offset, line: view.cursor.line, lastSeq: view.cursor.seq };
    const logPath = join(context.dir, LOG_FILE);
    const scanner = new LogScanner(logPath, start);
    process.stderr.write(`watching ${logPath} after seq ${start.lastSeq}\n`);
    const out = context.json ? ndjson.stringify() : null;
    out?.pipe(process.stdout);
    let readOffset = start.offset;
    let seen = 0;
    let reading = Promise.resolve();
    return new Promise<number>((resolve, reject) => {
      let done = false;
      const stop = () => {
        done = true;
        watcher.close();
        clearInterval(poll);
        process.removeListener('SIGINT', onSigint);
      };
      const finish = (code: number) => {
        stop();
        if (out === null) resolve(code);
        else out.end(() => resolve(code));
      };
      const readNew = () => {
        reading = reading.then(async () => {
          if (done) return;
          for await (const chunk of readLogChunks(logPath, readOffset)) {
            readOffset += chunk.length;
            for (const { event } of scanner.push(chunk)) {
              evolveSessions(state, event);
              if (out !== null) out.write(event);
              else print(describeEvent(event, state.sessions.get(event.sessionId)?.agentName ?? '?'));
              seen += 1;
              if (limit !== undefined && seen >= limit) return finish(0);
            }
          }
        }).catch((error: unknown) => {
          // A damaged log ends the watch with its error (and exit code), not as a clean stop.
          stop();
          reject(error);
        });
      };
      const watcher = watchFile(context.dir, () => readNew());
      // fs.watch can miss changes on some file systems; a slow poll backs it up.
      const poll = setInterval(readNew, 250);
      const onSigint = () => finish(0);
      process.once('SIGINT', onSigint);
      readNew();
    });
  },
};
