import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { pipelineSpan, sessionSpans, spanIdOf, toolSpans, traceIdOf } from '../../src/report/trace-spans.js';
import { exportTracesTo, otlpSink, type SpanSink } from '../../src/report/otlp-export.js';
import type { TraceSpan } from '../../src/report/trace-spans.js';

const ROOT = '6f3d9a21-9f3c-4cef-a8c1-2df6efa770e3';
const session = (overrides: Partial<Session>): Session =>
  ({
    id: ROOT,
    agentName: 'CodeGenAgent',
    purpose: 'Implement X',
    context: { issueNumber: 42, currentPhase: 'CodeGeneration', worktreePath: '/w', previousResults: [] },
    createdAt: '2026-11-30T10:00:00.000Z',
    status: 'Completed',
    parentSession: null,
    childSessions: [],
    endedAt: '2026-11-30T10:01:00.000Z',
    revision: 3,
    ...overrides,
  }) as Session;

describe('the spans of a pipeline, from its sessions', () => {
  it('derive their ids from session ids: the trace is the root, each span the same every time', () => {
    expect(traceIdOf(ROOT)).toBe('6f3d9a219f3c4cefa8c12df6efa770e3');
    expect(spanIdOf('session', ROOT)).toMatch(/^[0-9a-f]{16}$/);
    expect(spanIdOf('session', ROOT)).toBe(spanIdOf('session', ROOT));
    expect(spanIdOf('session', ROOT)).not.toBe(spanIdOf('run', ROOT));
  });

  it('send nothing of a session still Active, and no pipeline span while one of its sessions is', () => {
    const root = session({ status: 'Active', endedAt: undefined });
    expect(sessionSpans(root, ROOT)).toEqual([]);
    expect(pipelineSpan(root, [root])).toBeNull();
  });

  it('mark a failed session an error with its reason, link a retry to what it retries, and end a pipeline as its last session did', () => {
    const failed = session({ id: '11111111-1111-4111-8111-111111111111', status: 'Failed', error: 'tests failed', parentSession: ROOT, endedAt: '2026-11-30T10:02:00.000Z' });
    const retry = session({ id: '22222222-2222-4222-8222-222222222222', status: 'Completed', parentSession: ROOT, retryOf: failed.id, endedAt: '2026-11-30T10:03:00.000Z' });
    const [failedSpan] = sessionSpans(failed, ROOT);
    expect(failedSpan).toMatchObject({ status: { code: 'error', message: 'tests failed' }, attributes: expect.objectContaining({ 'miyabi.error': 'tests failed', 'error.type': 'agent_failed' }) });
    expect(sessionSpans(retry, ROOT)[0]!.links).toEqual([
      { traceId: traceIdOf(ROOT), spanId: spanIdOf('session', ROOT), attributes: { 'miyabi.link': 'handoff' } },
      { traceId: traceIdOf(ROOT), spanId: spanIdOf('session', failed.id), attributes: { 'miyabi.link': 'retry' } },
    ]);
    const root = session({ status: 'HandedOff' });
    expect(pipelineSpan(root, [root, failed, retry])).toMatchObject({ status: { code: 'ok' }, endMs: Date.parse('2026-11-30T10:03:00.000Z'), attributes: expect.objectContaining({ 'miyabi.pipeline.sessions': 3, 'miyabi.pipeline.status': 'Completed' }) });
    expect(pipelineSpan(root, [root, failed])).toMatchObject({ status: { code: 'error', message: 'tests failed' } });
  });

  it('a tool call without its result (a run cut short) ends where the conversation does; unparsable lines are skipped', () => {
    const transcript = Buffer.from(
      [
        JSON.stringify({ timestamp: '2026-11-30T10:00:10.000Z', message: { model: 'claude-x', content: [{ type: 'tool_use', id: 't1', name: 'Bash' }] } }),
        'not json',
        JSON.stringify({ timestamp: '2026-11-30T10:00:20.000Z', message: { content: [{ type: 'tool_result', tool_use_id: 't1', is_error: true }, { type: 'tool_use', id: 't2', name: 'Read' }] } }),
        JSON.stringify({ timestamp: '2026-11-30T10:00:30.000Z', message: { content: 'thinking' } }),
      ].join('\n'),
    );
    const { spans, model } = toolSpans(session({}), ROOT, transcript);
    expect(model).toBe('claude-x');
    expect(spans.map((s: TraceSpan) => [s.name, s.startMs, s.endMs, s.status.code])).toEqual([
      ['execute_tool Bash', Date.parse('2026-11-30T10:00:10.000Z'), Date.parse('2026-11-30T10:00:20.000Z'), 'error'],
      ['execute_tool Read', Date.parse('2026-11-30T10:00:20.000Z'), Date.parse('2026-11-30T10:00:30.000Z'), 'unset'],
    ]);
  });

  it('an endpoint that refuses a batch is a STORAGE error naming it, and the sink is closed', async () => {
    const sink = await otlpSink({ endpoint: 'http://127.0.0.1:9/v1/traces', timeoutMs: 2000 });
    await expect(sink.send(sessionSpans(session({}), ROOT))).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining('127.0.0.1:9') });
    await sink.close();
    let closed = false;
    const failing: SpanSink = { send: async () => Promise.reject(new Error('down')), close: async () => void (closed = true) };
    const reads = { stream: async function* () { yield session({}); }, rootOf: async () => ROOT, pipeline: async () => new Map() } as never;
    await expect(exportTracesTo(reads, {} as never, failing)).rejects.toThrow('down');
    expect(closed).toBe(true);
  }, 30_000);
});
