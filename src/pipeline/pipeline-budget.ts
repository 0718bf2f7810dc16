import { costSinceResume } from '../domain/agent-result.js';
import type { AgentCaps } from '../domain/agent-caps.js';
import type { PipelineSpec } from '../domain/pipeline-steps.js';
import type { Session } from '../domain/session.js';
import type { RecordedWait } from '../projections/pipeline-stream.js';

/** Less than this is nothing left: the CLI cannot be asked to spend a fraction of a cent. */
const NOTHING_LEFT_USD = 0.0001;

/** What a step may still spend, and why not when nothing is left. */
export interface StepAllowance {
  /** The caps for the step's next run (`--max-budget-usd` what is left, `--max-turns` the step's). */
  caps: AgentCaps;
  /** Set when the budget is spent: what to tell the person who may add to it. */
  spent?: string;
}

/**
 * What a session's own run cost. The CLI's `total_cost_usd` of a run that resumed a
 * conversation (`--resume … --fork-session`: a handoff, a retry, a continuation) includes what
 * that conversation had cost before, while `--max-budget-usd` caps the run's own spend; so the
 * cost of the session it resumed from is taken off (checked on the CLI these managers run).
 */
export function ownCostOf(session: Session, byId: ReadonlyMap<string, Session>): number {
  if (session.result?.runCostUsd !== undefined) return session.result.runCostUsd;
  // Recorded by an earlier version: worked out here from the session it resumed.
  const total = session.result?.totalCostUsd ?? 0;
  const from = session.agent?.resumedFrom;
  const before = from == null ? 0 : (byId.get(from)?.result?.totalCostUsd ?? 0);
  return costSinceResume(total, before);
}
const usd = (amount: number) => `$${amount.toFixed(4).replace(/0{1,2}$/, '')}`;

/**
 * What step `index` may spend on its next run: the least of what is left of its own budget
 * (over all its attempts) and of the pipeline's, each raised by the approvals that added to it
 * (an addition counts for the step it was given at, and for the pipeline). Costs are each run's
 * own ({@link ownCostOf}).
 */
export function allowanceOf(spec: PipelineSpec, steps: readonly Session[][], waits: readonly RecordedWait[], index: number): StepAllowance {
  const step = spec.steps[index]!;
  const byId = new Map(steps.flat().map((session) => [session.id, session]));
  const costOf = (sessions: readonly Session[]) => sessions.reduce((sum, session) => sum + ownCostOf(session, byId), 0);
  const added = (of: (wait: RecordedWait) => boolean) =>
    waits.reduce((sum, wait) => sum + (of(wait) && wait.answer?.approved === true ? (wait.answer.addBudgetUsd ?? 0) : 0), 0);
  const limits: Array<{ left: number; what: string }> = [];
  if (spec.budgetUsd !== undefined) {
    const allowed = spec.budgetUsd + added(() => true);
    const spent = costOf(steps.flat());
    limits.push({ left: allowed - spent, what: `the pipeline's budget: ${usd(spent)} spent of ${usd(allowed)}` });
  }
  if (step.budgetUsd !== undefined) {
    const allowed = step.budgetUsd + added((wait) => wait.step === index);
    const spent = costOf(steps[index] ?? []);
    limits.push({ left: allowed - spent, what: `step ${index + 1}'s budget: ${usd(spent)} spent of ${usd(allowed)}` });
  }
  const caps: AgentCaps = step.maxTurns === undefined ? {} : { maxTurns: step.maxTurns };
  if (limits.length === 0) return { caps };
  const tightest = limits.reduce((a, b) => (b.left < a.left ? b : a));
  if (tightest.left < NOTHING_LEFT_USD) return { caps, spent: `nothing left of ${tightest.what}` };
  return { caps: { ...caps, maxBudgetUsd: Math.floor(tightest.left * 1e6) / 1e6 } };
}
