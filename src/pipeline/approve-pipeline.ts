import type { SessionManager } from '../manager/session-manager.js';
import { decideApprove, decideReject } from './decide-pipeline.js';
import type { RecordedWait } from '../projections/pipeline-stream.js';

/** Options of {@link approvePipeline}. */
export interface ApproveOptions {
  /** US dollars added to the waiting step's budget and to the pipeline's; required when it waits because a budget is spent. */
  addBudgetUsd?: number;
  /** Who approves (recorded as `by`: a name, up to 200 characters). */
  by?: string;
}

/** Options of {@link rejectPipeline}. */
export interface RejectOptions {
  /** Why (default "rejected"); the pipeline fails with it. */
  reason?: string;
  /** Who rejects (recorded as `by`). */
  by?: string;
}

/**
 * Lets a pipeline that waits for a person go on: past its gate, or past a cap (the stopped step
 * continues as a new session forked from its conversation; with `addBudgetUsd`, on more budget).
 * The approval goes to the pipeline's stream in the log, with who and when; whichever process
 * runs or resumes the pipeline carries on. Resolves with the wait it answered.
 * Throws `NOT_FOUND`, `INVALID_INPUT` (not a pipeline's root, a bad amount, a wait for budget
 * without any added), `INVALID_TRANSITION` (it does not wait), `CONFLICT`.
 *
 * @example
 * await approvePipeline(manager, rootId, { addBudgetUsd: 0.10, by: 'alice' });
 * await resumePipeline(manager, rootId);
 */
export async function approvePipeline(manager: SessionManager, rootId: string, options: ApproveOptions = {}): Promise<RecordedWait> {
  await manager.appendToPipeline(rootId, (stream, clock) => decideApprove(stream, { addBudgetUsd: options.addBudgetUsd, by: options.by }, clock));
  return (await manager.pipelineStream(rootId)).waits.at(-1)!;
}

/**
 * Ends a pipeline that waits for a person Failed, with the reason: recorded on the pipeline's
 * stream with who and when; the process that runs it ends it (a step held at a gate fails with
 * the reason). Resolves with the wait it answered. Throws as {@link approvePipeline}.
 *
 * @example
 * await rejectPipeline(manager, rootId, { reason: 'not this week', by: 'alice' });
 */
export async function rejectPipeline(manager: SessionManager, rootId: string, options: RejectOptions = {}): Promise<RecordedWait> {
  await manager.appendToPipeline(rootId, (stream, clock) => decideReject(stream, { reason: options.reason, by: options.by }, clock));
  return (await manager.pipelineStream(rootId)).waits.at(-1)!;
}
