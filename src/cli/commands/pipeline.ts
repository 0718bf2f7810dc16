import { PhaseSchema } from '../../domain/phase.js';
import type { PipelineStepInput } from '../../domain/pipeline-steps.js';
import type { Session } from '../../domain/session.js';
import { SessionError } from '../../errors.js';
import { parseSessionId } from '../../manager/decide.js';
import { SessionManager } from '../../manager/session-manager.js';
import { DEFAULT_PIPELINE, resumePipeline, runPipeline, type PipelineResult } from '../../pipeline/run-pipeline.js';
import { ClaudeRunner } from '../../runner/claude-runner.js';
import { UsageError, intOption, requirePositional, stringOption, type Command, type CommandContext } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson, table } from '../format.js';
import { contextStore, withSessionReads } from '../open-store.js';
import { replayPipeline, stepAttempts } from '../../pipeline/pipeline-progress.js';

/** `--steps CodeGenAgent:CodeGeneration,ReviewAgent:Review` as steps. */
function stepsOption(context: CommandContext): PipelineStepInput[] | undefined {
  const text = stringOption(context, 'steps');
  if (text === undefined) return undefined;
  return text.split(',').map((pair) => {
    const [agentName, phase] = pair.split(':');
    const parsed = PhaseSchema.safeParse(phase);
    if (agentName === undefined || agentName.length === 0 || !parsed.success) throw new UsageError(`--steps takes agent:phase pairs (phases: ${PhaseSchema.options.join(', ')}), not "${pair}"`);
    return { agentName, phase: parsed.data };
  });
}

/** A step's lines in `pipeline status`: one per attempt (those run again marked so), or a dash before it started. */
function statusLines(number: number, step: PipelineStepInput, attempts: Session[]): string[][] {
  const line = (session: Session | undefined, note: string) => [String(number), step.agentName, step.phase, `${session?.status ?? '—'}${note}`, session?.id ?? '—'];
  if (attempts.length === 0) return [line(undefined, '')];
  return attempts.map((session, i) => line(session, i < attempts.length - 1 ? ' (retried)' : ''));
}

function report(context: CommandContext, result: PipelineResult): number {
  if (context.json) printJson(result);
  else {
    print(`pipeline ${result.status}${result.error === undefined ? '' : `: ${result.error}`}`);
    print(table(['STEP', 'AGENT', 'STATUS', 'SESSION'], result.sessions.map((s, i) => [String(i + 1), s.agentName, s.status, s.id])));
    for (const attempt of result.retried) print(`retried: ${attempt.id} (${attempt.agentName}): ${attempt.error ?? 'interrupted'}`);
  }
  return result.status === 'Completed' ? EXIT.OK : EXIT.FINDINGS;
}

async function withRunner(context: CommandContext, act: (manager: SessionManager) => Promise<PipelineResult>): Promise<number> {
  const store = contextStore(context);
  const manager = await SessionManager.open(context.dir, { runner: new ClaudeRunner(), ...(store === undefined ? {} : { store }) });
  try {
    return report(context, await act(manager));
  } finally {
    await manager.close();
  }
}

/** `pipeline run|resume|status`: run agents step by step, continue a run after a crash, or show where one stands. */
export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'run a pipeline of Claude Code agents, resume one after a crash, or show where one stands (exit 1 if it failed)',
  usage: 'pipeline run [--issue N] [--worktree PATH] [--steps agent:phase,…] [--purpose P] [--max-retries N] | pipeline resume <root-id> | pipeline status <root-id>',
  options: { issue: { type: 'string' }, worktree: { type: 'string' }, steps: { type: 'string' }, purpose: { type: 'string' }, 'max-retries': { type: 'string' } },
  example: 'root 4d66d01b-4085-4c47-8a1e-1398cfb590d7\npipeline Completed\nSTEP  AGENT         STATUS     SESSION\n1     CodeGenAgent  HandedOff  4d66d01b-…',
  async run(context) {
    const action = requirePositional(context, 0, 'run, resume or status');
    if (action === 'run') {
      const issueNumber = intOption(context, 'issue');
      const worktreePath = stringOption(context, 'worktree');
      const steps = stepsOption(context) ?? [...DEFAULT_PIPELINE];
      const purpose = stringOption(context, 'purpose');
      if (issueNumber === undefined && purpose === undefined) throw new UsageError('--issue or --purpose is required');
      const maxRetries = intOption(context, 'max-retries');
      // The root's id comes first, at once: what `pipeline resume` needs after a crash.
      return withRunner(context, (m) => runPipeline(m, { issueNumber: issueNumber ?? null, worktreePath: worktreePath ?? null, steps, ...(purpose === undefined ? {} : { purpose }), ...(maxRetries === undefined ? {} : { maxRetries }), onRoot: (id) => (context.json ? process.stderr : process.stdout).write(`root ${id}\n`) }));
    }
    const rootId = parseSessionId(requirePositional(context, 1, 'root session id'));
    if (action === 'resume') return withRunner(context, (m) => resumePipeline(m, rootId));
    if (action !== 'status') throw new UsageError(`unknown pipeline action "${action}": run, resume or status`);
    // The pipeline's own sessions only (none for an unknown id).
    const sessions = await withSessionReads(context, (reads) => reads.pipeline(rootId));
    const root = sessions.get(rootId);
    if (root === undefined) throw new SessionError('NOT_FOUND', `no session ${rootId}`, { sessionId: rootId });
    if (root.pipeline === undefined || root.parentSession !== null) throw new SessionError('INVALID_INPUT', `session ${rootId} is not the root of a pipeline`, { sessionId: rootId });
    const steps = await stepAttempts(root, (id) => sessions.get(id));
    const run = replayPipeline(root.pipeline, steps.flat());
    const snapshot = run.getSnapshot();
    run.stop();
    const status = snapshot.value === 'completed' ? 'Completed' : snapshot.value === 'failed' ? 'Failed' : 'Running';
    const rows = root.pipeline.steps.map((step, i) => ({ step, attempts: steps[i] ?? [] }));
    if (context.json) printJson({ status, steps: rows.map((r) => ({ ...r.step, session: r.attempts.at(-1) ?? null, retried: r.attempts.slice(0, -1) })) });
    else {
      print(`pipeline ${status}${snapshot.context.error === undefined || status !== 'Failed' ? '' : `: ${snapshot.context.error}`}`);
      print(table(['STEP', 'AGENT', 'PHASE', 'STATUS', 'SESSION'], rows.flatMap((r, i) => statusLines(i + 1, r.step, r.attempts))));
    }
    return status === 'Failed' ? EXIT.FINDINGS : EXIT.OK;
  },
};
