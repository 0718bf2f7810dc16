import type { SessionManager } from '../src/index.js';
import type { SupervisorRecorder } from '../src/manager/agent-supervisor.js';

const PHASES = ['CodeGeneration', 'Review', 'Test', 'CICD'] as const;
const AGENTS = ['CodeGenAgent', 'ReviewAgent', 'TestAgent', 'DeployAgent'] as const;
const RESULT = { success: true, output: 'step done: tests green, diff ready for review', numTurns: 3, durationMs: 1200, totalCostUsd: 0.012 };

/**
 * How the manager records agents' starts and ends, for a bench that has no agent processes:
 * the same decisions and events a runner's supervisor makes, minus the process.
 */
export function agentRecorderOf(manager: SessionManager): SupervisorRecorder {
  return (manager as unknown as { agentRecorder(): SupervisorRecorder }).agentRecorder();
}

/**
 * One caller's realistic work: pipelines of four steps, each spawned (or handed off to), its
 * agent started and finished, then handed off (the last completed, one pipeline in ten failed);
 * and every tenth step it ends one of the store's older Active sessions, wherever it lies (a
 * store in a steady state ends about as many sessions as it spawns; its pipelines do most). Each `step()` is one
 * durable append (a handoff's two events count as one append).
 */
export class PipelineWorker {
  private current: string | null = null;
  private phase = 0;
  private stage: 'spawn' | 'start' | 'finish' | 'end' = 'spawn';
  private steps = 0;
  private readonly recorder: SupervisorRecorder;

  constructor(
    private readonly manager: SessionManager,
    private readonly issue: number,
    /** Active sessions already in the store, shared by all workers: some get completed or failed. */
    private readonly olderActive: string[],
  ) {
    this.recorder = agentRecorderOf(manager);
  }

  async step(): Promise<void> {
    this.steps += 1;
    if (this.steps % 10 === 0 && this.olderActive.length > 0) {
      const id = this.olderActive.pop()!;
      if (this.steps % 20 === 0) await this.manager.failSession(id, 'the agent ran out of budget');
      else await this.manager.completeSession(id, RESULT);
      return;
    }
    const context = { issueNumber: this.issue, currentPhase: PHASES[this.phase]!, worktreePath: `/w/issue-${this.issue}` };
    switch (this.stage) {
      case 'spawn':
        this.current = (await this.manager.spawnAgentSession(AGENTS[0], `Resolve issue #${this.issue}`, context)).id;
        this.stage = 'start';
        return;
      case 'start':
        await this.recorder.started(this.current!, { pid: 4242, startTime: '123456', command: ['claude', '-p', '<prompt>'], cwd: context.worktreePath }, null, `/logs/${this.current}.log`);
        this.stage = 'finish';
        return;
      case 'finish':
        await this.recorder.finished(this.current!, { ok: true, result: RESULT });
        this.stage = 'end';
        return;
      case 'end':
        if (this.phase === 3) {
          if (this.issue % 10 === 0) await this.manager.failSession(this.current!, 'deploy refused: missing credentials');
          else await this.manager.completeSession(this.current!, RESULT);
          this.phase = 0;
          this.stage = 'spawn';
        } else {
          this.phase += 1;
          const next = { ...context, currentPhase: PHASES[this.phase]! };
          this.current = (await this.manager.handoff(this.current!, AGENTS[this.phase]!, next, { result: RESULT })).id;
          this.stage = 'start';
        }
    }
  }
}

/** Runs `steps` appends spread over `callers` concurrent workers; resolves with the events appended. */
export async function runWorkers(manager: SessionManager, callers: number, steps: number, olderActive: string[], issueBase = 1): Promise<void> {
  const workers = Array.from({ length: callers }, (_, i) => new PipelineWorker(manager, issueBase + i, olderActive));
  await Promise.all(workers.map(async (worker) => {
    for (let i = 0; i < steps / callers; i += 1) await worker.step();
  }));
}
