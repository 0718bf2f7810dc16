import { NdjsonOut } from '../ndjson-out.js';
import type { SessionEvent } from '../../events/session-event.js';
import { evolveSessions } from '../../projections/sessions-projection.js';
import type { StoreCursor } from '../../store/event-store.js';
import { FileEventStore } from '../../store/file/file-event-store.js';
import { intOption, type Command } from '../command.js';
import { contextStore, loadView } from '../open-store.js';
import { issueLabel, print } from '../format.js';

/** One decoded event as a line for people. */
export function describeEvent(event: SessionEvent, agentName: string): string {
  const by = event.by === undefined ? '' : ` by=${JSON.stringify(event.by)}`;
  const head = `${String(event.seq).padStart(6)} ${event.timestamp} ${event.sessionId.slice(0, 8)} ${agentName.padEnd(14)} ${event.type}${by}`;
  switch (event.type) {
    case 'SessionSpawned':
      return `${head} phase=${event.data.context.currentPhase} issue=${issueLabel(event.data.context.issueNumber)}${event.data.parentSession === null ? '' : ` parent=${event.data.parentSession.slice(0, 8)}`}`;
    case 'SessionHandedOff':
      return `${head} → ${event.data.toAgent} (${event.data.childSession.slice(0, 8)})`;
    case 'SessionFailed':
      return `${head} error=${JSON.stringify(event.data.error)}`;
    case 'SessionAgentStarted':
      return `${head} pid=${event.data.process.pid}`;
    case 'SessionStopRequested':
      return `${head} reason=${JSON.stringify(event.data.reason)}`;
    case 'SessionCompleted':
    case 'SessionAgentFinished':
      return event.data.result === undefined ? head : `${head} result=${JSON.stringify(event.data.result.output.slice(0, 80))}`;
    case 'PipelineWaiting':
      return `${head} pipeline=${event.data.rootId.slice(0, 8)} step=${event.data.step + 1} reason=${event.data.reason} detail=${JSON.stringify(event.data.detail)}`;
    case 'PipelineApproved':
      return `${head} pipeline=${event.data.rootId.slice(0, 8)}${event.data.addBudgetUsd === undefined ? '' : ` add-budget=${event.data.addBudgetUsd}`}`;
    case 'PipelineRejected':
      return `${head} pipeline=${event.data.rootId.slice(0, 8)} reason=${JSON.stringify(event.data.reason)}`;
    case 'PipelineQueued':
      return `${head} pipeline=${event.data.rootId.slice(0, 8)} step=${event.data.step + 1} agent=${event.data.agentName} position=${event.data.position}`;
    case 'PipelineNotified':
      return `${head} pipeline=${event.data.rootId.slice(0, 8)} ${event.data.kind} ${event.data.target} ${event.data.delivered ? 'delivered' : 'given up'} after ${event.data.attempts}`;
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
    const limit = intOption(context, 'count');
    const fromStart = context.values['from-start'] === true;
    const postgres = contextStore(context);
    const store = postgres ?? new FileEventStore(context.dir);
    // From the start: nothing folded yet (the read still refuses an original's store).
    const { state, cursor: end } = await loadView(context, fromStart ? { seq: 0 } : undefined);
    let cursor: StoreCursor | null = fromStart ? null : end;
    process.stderr.write(`watching ${store.location} after seq ${cursor?.seq ?? 0}\n`);
    const out = context.json ? new NdjsonOut() : null;
    let seen = 0;
    return new Promise<number>((resolve, reject) => {
      let done = false;
      // The store's watch never keeps a process alive; this command lives to watch, until stopped.
      const alive = setInterval(() => {}, 2 ** 30);
      const stop = () => {
        done = true;
        clearInterval(alive);
        watcher.stop();
        void postgres?.close();
        process.removeListener('SIGINT', onSigint);
      };
      const finish = (code: number) => {
        stop();
        if (out === null) resolve(code);
        else void out.end().then(() => resolve(code));
      };
      const readOnce = async () => {
        if (done) return;
        try {
          const read = await store.readRecords(cursor);
          for await (const batch of read.records) {
            for (const { event } of batch) {
              evolveSessions(state, event);
              if (out !== null) out.write(event);
              else print(describeEvent(event, state.sessions.get(event.sessionId)?.agentName ?? '?'));
              seen += 1;
              if (limit !== undefined && seen >= limit) return finish(0);
            }
          }
          cursor = read.end().cursor;
        } catch (error) {
          // A damaged log ends the watch with its error (and exit code), not as a clean stop.
          stop();
          reject(error);
        }
      };
      // One read at a time: the first read and a change seen meanwhile would fold the same events twice.
      let reading: Promise<void> = Promise.resolve();
      const readNew = () => (reading = reading.then(readOnce));
      const watcher = store.watch(readNew);
      const onSigint = () => finish(0);
      process.once('SIGINT', onSigint);
      void readNew();
    });
  },
};
