import { describe, expect } from 'vitest';
import { runPipeline } from '../../src/index.js';
import { lastUserText } from '../helpers/claude-env.js';
import { runCli } from '../helpers/cli.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { namedStepDone, test } from '../helpers/real-claude.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** The scripted model: each step first runs a Bash tool, then answers. */
function toolThenDone() {
  const done = namedStepDone();
  return (request: { path: string; body: Record<string, unknown> }, index: number) => {
    const messages = (request.body['messages'] as Array<{ role: string; content: unknown }> | undefined) ?? [];
    const last = messages.at(-1);
    const answeredTool = Array.isArray(last?.content) && (last.content as Array<{ type?: string }>).some((block) => block.type === 'tool_result');
    if (!answeredTool && /You are \w+/.test(lastUserText(request.body))) return { toolUse: { name: 'Bash', input: { command: 'echo traced', description: 'a short tool' } } };
    return done(request, index);
  };
}

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((span) => [span.spanId, span]));

describe('OpenTelemetry traces of a real pipeline (real CLI, scripted API)', () => {
  test('export --format otlp sends one trace a pipeline: the tree, the handoff links, tokens and cost; a second export sends the same ids', async ({ claude }) => {
    claude.reply = toolThenDone();
    const schema = freshSchema();
    const manager = await claude.open({ runner: { allowedTools: ['Bash'] } });
    const steps = [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const }, { agentName: 'ReviewAgent', phase: 'Review' as const }];
    const first = await runPipeline(manager, { issueNumber: 27, worktreePath: claude.dir, steps });
    const second = await runPipeline(manager, { issueNumber: 28, worktreePath: claude.dir, steps: steps.slice(0, 1) });
    await manager.close();
    expect([first.status, second.status]).toEqual(['Completed', 'Completed']);
    const receiver = await startOtlpReceiver();
    try {
      const sent = await runCli(['export', '--format', 'otlp', '--endpoint', receiver.endpoint, '--tool-spans', '--header', 'x-api-key=secret', '--dir', claude.store]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toMatch(/^sent \d+ spans \(2 finished pipelines\)/);
      const spans = [...receiver.spans];
      expect(receiver.headers[0]).toMatchObject({ 'x-api-key': 'secret' });
      // One trace a pipeline, named by its root session's id.
      const traces = new Set(spans.map((span) => span.traceId));
      expect(traces).toEqual(new Set([first.sessions[0]!.id.replaceAll('-', ''), second.sessions[0]!.id.replaceAll('-', '')]));
      const spansOf = byId(spans);
      const firstTrace = spans.filter((span) => span.traceId === first.sessions[0]!.id.replaceAll('-', ''));
      const pipeline = firstTrace.find((span) => span.parentSpanId === '')!;
      expect(pipeline).toMatchObject({ name: 'pipeline #27', attributes: expect.objectContaining({ 'miyabi.pipeline.sessions': 2, 'miyabi.issue': 27 }), status: { code: 1 } });
      expect(pipeline.service).toBe('miyabi-session-manager');
      const [codegen, review] = first.sessions;
      const stepSpans = firstTrace.filter((span) => span.parentSpanId === pipeline.spanId);
      expect(stepSpans.map((span) => span.attributes['miyabi.session.id']).sort()).toEqual([codegen!.id, review!.id].sort());
      const codegenSpan = stepSpans.find((span) => span.attributes['miyabi.session.id'] === codegen!.id)!;
      const reviewSpan = stepSpans.find((span) => span.attributes['miyabi.session.id'] === review!.id)!;
      expect(codegenSpan).toMatchObject({ name: 'CodeGenAgent CodeGeneration', attributes: expect.objectContaining({ 'miyabi.session.status': 'HandedOff', 'miyabi.phase': 'CodeGeneration', 'gen_ai.agent.name': 'CodeGenAgent' }) });
      // The handoff is a link from the child's span to its parent's.
      expect(reviewSpan.links).toEqual([{ traceId: pipeline.traceId, spanId: codegenSpan.spanId, attributes: { 'miyabi.link': 'handoff' } }]);
      // Each step's agent run under it, with what the CLI reported; each tool call under the run.
      for (const step of [codegenSpan, reviewSpan]) {
        const run = firstTrace.find((span) => span.parentSpanId === step.spanId)!;
        expect(run).toMatchObject({ name: `invoke_agent ${step.attributes['gen_ai.agent.name']}`, kind: 3 });
        expect(run.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': expect.any(String) });
        expect(run.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
        expect(run.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
        expect(run.attributes['miyabi.cost_usd']).toEqual(expect.any(Number));
        expect(run.attributes['miyabi.turns']).toBeGreaterThanOrEqual(2);
        const tools = firstTrace.filter((span) => span.parentSpanId === run.spanId);
        expect(tools.map((tool) => tool.name)).toContain('execute_tool Bash');
        expect(tools[0]!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'Bash' });
        expect(BigInt(tools[0]!.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(tools[0]!.startTimeUnixNano));
      }
      // Every parent is a span of the same trace.
      for (const span of spans) if (span.parentSpanId !== '') expect(spansOf.get(span.parentSpanId)?.traceId).toBe(span.traceId);

      const again = await runCli(['export', '--format', 'otlp', '--endpoint', receiver.endpoint, '--tool-spans', '--dir', claude.store]);
      expect(again.code).toBe(0);
      const ids = (list: ReceivedSpan[]) => list.map((span) => `${span.traceId}/${span.spanId}/${span.parentSpanId}/${span.startTimeUnixNano}/${span.endTimeUnixNano}`).sort();
      expect(ids(receiver.spans.slice(spans.length))).toEqual(ids(receiver.spans.slice(0, spans.length)));

      // The same store copied to PostgreSQL sends the same spans.
      const url = `${PG_URL}#${schema}`;
      expect((await runCli(['copy', '--from', claude.store, '--to', url])).code).toBe(0);
      const before = receiver.spans.length;
      const fromPostgres = await runCli(['export', '--format', 'otlp', '--endpoint', receiver.endpoint, '--tool-spans', '--store', url]);
      expect(fromPostgres.code, fromPostgres.stderr).toBe(0);
      expect(ids(receiver.spans.slice(before))).toEqual(ids(spans));
    } finally {
      await receiver.close();
      await dropSchema(schema);
    }
  }, 180_000);
});
