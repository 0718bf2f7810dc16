import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileEventStore, PostgresEventStore, SessionManager, type EventStore } from '../../src/index.js';
import { readFileSessions, readPostgresSessions, type SessionReads } from '../../src/query/session-reads.js';
import { followTraces } from '../../src/report/trace-follower.js';
import { spanIdOf, traceIdOf, type TraceSpan } from '../../src/report/trace-spans.js';
import type { SpanSink } from '../../src/report/otlp-export.js';
import { FileTranscripts } from '../../src/store/file/file-transcripts.js';
import { pollFor } from '../helpers/children.js';
import { runCli } from '../helpers/cli.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** A sink that keeps what it is sent, and can be told to refuse. */
function keepingSink(): SpanSink & { spans: TraceSpan[]; refuse: boolean } {
  const sink = {
    spans: [] as TraceSpan[],
    refuse: false,
    send: async (spans: TraceSpan[]) => {
      if (sink.refuse) throw new Error('collector down');
      sink.spans.push(...spans);
    },
    close: async () => undefined,
  };
  return sink;
}

for (const kind of ['file', 'postgres'] as const) {
  describe(`traces sent live as the store moves (${kind} store)`, () => {
    it('sends each session as it ends, the pipeline once none of it is Active, and a refused batch again at the next change', async () => {
      const { dir, cleanup } = await tempDir();
      const schema = freshSchema();
      const open = (): EventStore => (kind === 'file' ? new FileEventStore(join(dir, 'store')) : new PostgresEventStore({ connectionString: PG_URL, schema }));
      const manager = kind === 'file' ? await SessionManager.open(join(dir, 'store')) : await SessionManager.open(join(dir, 'cache'), { store: open() });
      const watched = open();
      const read = <T>(work: (reads: SessionReads) => Promise<T>) => (watched instanceof PostgresEventStore ? readPostgresSessions(watched, work) : readFileSessions(join(dir, 'store'), work));
      const sink = keepingSink();
      const errors: string[] = [];
      const follower = await followTraces(watched, read, watched.transcripts ?? new FileTranscripts(join(dir, 'store')), { endpoint: 'unused', sink, onError: (e) => errors.push(e.message) });
      try {
        const root = await manager.spawnAgentSession('CodeGenAgent', 'Implement X', contextFor('CodeGeneration', 3));
        const child = await manager.handoff(root.id, 'ReviewAgent', contextFor('Review', 3), { result: { success: true, output: 'done' } });
        await follower.flush();
        // The handoff ended the root: its span, not yet the pipeline's (the child is Active).
        expect(sink.spans.map((span) => span.spanId)).toEqual([spanIdOf('session', root.id)]);
        sink.refuse = true;
        await manager.completeSession(child.id, { success: true, output: 'reviewed' });
        await follower.flush();
        // Refused at each look (the store's watch may have looked too).
        expect(errors.length).toBeGreaterThan(0);
        expect(new Set(errors)).toEqual(new Set(['collector down']));
        sink.refuse = false;
        // Nothing new appended: the next look (another change, or a flush) sends what was refused.
        await follower.flush();
        expect(sink.spans.map((span) => span.spanId)).toEqual([spanIdOf('session', root.id), spanIdOf('session', child.id), spanIdOf('pipeline', root.id)]);
        expect(new Set(sink.spans.map((span) => span.traceId))).toEqual(new Set([traceIdOf(root.id)]));
      } finally {
        await follower.stop();
        await manager.close();
        await watched.close();
        if (kind === 'postgres') await dropSchema(schema);
        await cleanup();
      }
    }, 60_000);
  });
}

describe('serve --otlp-endpoint', () => {
  it('sends the spans of sessions another process ends, to a real OTLP receiver', async () => {
    const { dir, cleanup } = await tempDir();
    const receiver = await startOtlpReceiver();
    expect((await runCli(['spawn', 'CodeGenAgent', '--purpose', 'before', '--issue', '1', '--phase', 'CodeGeneration', '--dir', dir])).code).toBe(0);
    const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--read-only', '--otlp-endpoint', receiver.endpoint, '--otlp-header', 'authorization=Bearer t', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    try {
      await pollFor(async () => (out.includes('sending traces to') ? true : undefined), 20_000, 'serve to start');
      const spawned = await runCli(['spawn', 'TestAgent', '--purpose', 'live', '--issue', '2', '--phase', 'Test', '--dir', dir]);
      const id = spawned.stdout.split(' ')[0]!;
      expect((await runCli(['fail', id, '--error', 'tests failed', '--dir', dir])).code).toBe(0);
      await pollFor(async () => (receiver.spans.some((span) => span.parentSpanId === '') ? true : undefined), 20_000, 'the pipeline span');
      expect(receiver.spans.map((span) => [span.name, span.status.code])).toEqual([['TestAgent Test', 2], ['pipeline #2', 2]]);
      expect(receiver.spans[0]!.attributes).toMatchObject({ 'miyabi.session.id': id, 'miyabi.error': 'tests failed' });
      expect(receiver.headers[0]).toMatchObject({ authorization: 'Bearer t' });
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      await receiver.close();
      await cleanup();
    }
  }, 60_000);
});
