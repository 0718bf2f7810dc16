import { join } from 'node:path';
import { SessionManager } from '../../manager/session-manager.js';
import { ClaudeRunner } from '../../runner/claude-runner.js';
import type { DashboardActions } from '../../server/actions.js';
import { fileSessionReader, postgresSessionReader, type SessionReads } from '../../query/session-reads.js';
import { parseTokens } from '../../server/access.js';
import { startDashboard } from '../../server/dashboard.js';
import { FileEventStore } from '../../store/file/file-event-store.js';
import { FileTranscripts } from '../../store/file/file-transcripts.js';
import { FileSlotTable } from '../../store/file/file-slots.js';
import { SlotTable } from '../../store/slot-store.js';
import { PostgresEventStore } from '../../store/postgres/postgres-event-store.js';
import { UsageError, intOption, stringOption, type Command } from '../command.js';
import { print } from '../format.js';
import { contextStore } from '../open-store.js';
import { localUser } from '../local-user.js';
import { followTraces } from '../../report/trace-follower.js';
import { headersOf } from '../headers.js';

/**
 * `serve`: the live dashboard over the store (overview, sessions with filters, each pipeline),
 * following every append by any process, until stopped (Ctrl-C or SIGTERM). Its buttons stop a
 * running agent (on any host: a stop request the agent's manager carries out); with `--agents`
 * they also retry a failed step and resume a pipeline, running the agents here as `pipeline
 * resume` does. `--read-only` shows no buttons.
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the live dashboard on 127.0.0.1:4319 (--host, --port; --token NAME=SECRET, required on any other address): overview, pipelines, sessions; stop agents; --agents: retry and resume, agents run here; --read-only: no buttons',
  usage: 'serve [--host 127.0.0.1] [--port 4319] [--token NAME=SECRET]... [--read-only | --agents] [--otlp-endpoint URL [--otlp-header K=V]... [--otlp-tool-spans]]',
  options: {
    'otlp-endpoint': { type: 'string' },
    'otlp-header': { type: 'string', multiple: true },
    'otlp-tool-spans': { type: 'boolean', default: false },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4319' },
    token: { type: 'string', multiple: true },
    'read-only': { type: 'boolean', default: false },
    agents: { type: 'boolean', default: false },
  },
  example: 'serving http://127.0.0.1:4319/ (.ai/sessions); Ctrl-C stops',
  async run(context) {
    const port = intOption(context, 'port') ?? 4319;
    if (port > 65_535) throw new UsageError('--port must be at most 65535');
    const tokens = parseTokens((context.values['token'] as string[] | undefined) ?? []);
    const otlp = stringOption(context, 'otlp-endpoint');
    if (otlp !== undefined && !/^https?:\/\//.test(otlp)) throw new UsageError('--otlp-endpoint must be an http(s):// url (…/v1/traces)');
    const otlpHeaders = headersOf((context.values['otlp-header'] as string[] | undefined) ?? [], '--otlp-header');
    const readOnly = context.values['read-only'] === true;
    const agents = context.values['agents'] === true;
    if (readOnly && agents) throw new UsageError('--read-only and --agents exclude each other');
    const postgres = contextStore(context);
    if (postgres !== undefined && !(postgres instanceof PostgresEventStore)) throw new UsageError('--store takes a postgres:// url');
    const store = postgres ?? new FileEventStore(context.dir);
    // Files: the read-only view kept between requests while the store stands still.
    const files = postgres === undefined ? fileSessionReader(context.dir) : null;
    // PostgreSQL: the sessions folded for one page kept for the next, by revision.
    const tables = postgres === undefined ? null : postgresSessionReader(postgres, (events, folded, why) => process.stderr.write(`note: the sessions table is ${events} events behind its log (${why}): pages stand at seq ${folded}\n`));
    const read = files !== null ? <T>(fn: (reads: SessionReads) => Promise<T>) => files.read(fn) : <T>(fn: (reads: SessionReads) => Promise<T>) => tables!.read(fn);
    // Actions go through a manager of the same store, opened when first needed (at once with
    // agents: opening with a runner adopts or fails this host's orphaned agents, as `pipeline resume` does).
    let opened: Promise<SessionManager> | null = null;
    let appendsOf: SessionManager | null = null;
    const manager = () => (opened ??= SessionManager.open(context.dir, { ...(agents ? { runner: new ClaudeRunner() } : {}), ...(postgres === undefined ? {} : { store: contextStore(context)! }) }).then((m) => (appendsOf = m)));
    if (agents) await manager();
    const actions: DashboardActions | undefined = readOnly ? undefined : { manager, agents, localUser: localUser() };
    try {
      const dashboard = await startDashboard({
        read,
        store,
        transcripts: store.transcripts ?? new FileTranscripts(context.dir),
        location: store.location,
        host: stringOption(context, 'host') ?? '127.0.0.1',
        port,
        tokens,
        // Agents this host runs write their logs beside the manager's cache.
        logs: join(context.dir, 'logs'),
        slots: new SlotTable(postgres?.slots ?? new FileSlotTable(context.dir)),
        // This process appends only through its manager (the buttons): its figures once it opened one.
        appendMetrics: () => appendsOf?.appendMetrics.snapshot() ?? null,
        ...(actions === undefined ? {} : { actions }),
      });
      // Live traces: each session's spans sent as it ends, by whoever appended it.
      const traces = otlp === undefined
        ? null
        : await followTraces(store, read, store.transcripts ?? new FileTranscripts(context.dir), {
            endpoint: otlp,
            headers: otlpHeaders,
            toolSpans: context.values['otlp-tool-spans'] === true,
            onError: (error) => process.stderr.write(`traces: ${error.message}\n`),
          });
      print(`serving ${dashboard.url} (${store.location})${otlp === undefined ? '' : `, sending traces to ${otlp}`}; Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
          void Promise.all([dashboard.close(), traces?.stop()]).then(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    } finally {
      // Assigned by the closure above: TypeScript cannot see that, hence the cast.
      await (await (opened as Promise<SessionManager> | null)?.catch(() => null))?.close();
      await files?.close();
      await postgres?.close();
    }
    return 0;
  },
};
