import { z } from 'zod';
import { BudgetUsdSchema, MAX_BUDGET_USD } from '../domain/agent-caps.js';
import { AgentNameSchema, LIMITS, UuidSchema, boundedText } from '../domain/limits.js';
import { envelopeShape } from './event-envelope.js';

/*
 * A pipeline's own facts, in its own stream of the log: `sessionId` is the pipeline's id
 * (pipelineIdOf(root)), `data.rootId` its root session. Waiting, approvals and rejections are
 * facts of a pipeline, not of one session (its root may long be HandedOff, a final state), so
 * the session machine keeps its four states. The pipeline machine folds them with the sessions'.
 */

/** Why a pipeline waits for a person. */
export const WaitReasonSchema = z.enum(['gate', 'budget', 'turns']);

/** Why a pipeline waits: a step's approval gate, a budget spent (the step's or the pipeline's), or a step's turn cap reached. */
export type WaitReason = z.infer<typeof WaitReasonSchema>;

const pipelineData = {
  /** The pipeline's root session. */
  rootId: UuidSchema,
};

/** Zod schema of {@link PipelineWaiting}. */
export const PipelineWaitingSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('PipelineWaiting'),
  data: z.strictObject({
    ...pipelineData,
    reason: WaitReasonSchema,
    /** The step that waits to start or to go on (0-based). */
    step: z.number().int().min(0).max(63),
    /** The session the wait follows: the step stopped at its cap, or the step before a gate or a spent pipeline budget. */
    sessionId: UuidSchema,
    /** What it waits for, in words. */
    detail: boundedText(LIMITS.errorText, 'detail').min(1),
  }),
});

/** A pipeline stopped to wait for a person: `pipeline approve` lets it go on, `pipeline reject` ends it Failed. */
export type PipelineWaiting = z.infer<typeof PipelineWaitingSchema>;

/** Zod schema of {@link PipelineApproved}. */
export const PipelineApprovedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('PipelineApproved'),
  data: z.strictObject({
    ...pipelineData,
    /** US dollars added to the waiting step's budget and to the pipeline's. */
    addBudgetUsd: BudgetUsdSchema.max(MAX_BUDGET_USD).optional(),
  }),
});

/** Someone (`by`) approved the wait: the pipeline goes on with whatever budget was added. */
export type PipelineApproved = z.infer<typeof PipelineApprovedSchema>;

/** Zod schema of {@link PipelineRejected}. */
export const PipelineRejectedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('PipelineRejected'),
  data: z.strictObject({
    ...pipelineData,
    /** Why, in the words of whoever rejected it (or "approval timed out"). */
    reason: boundedText(LIMITS.errorText, 'reason').min(1, 'reason must not be empty'),
  }),
});

/** Someone (`by`), or the wait's timeout, rejected the wait: the pipeline ends Failed with the reason. */
export type PipelineRejected = z.infer<typeof PipelineRejectedSchema>;

/** Zod schema of {@link PipelineQueued}. */
export const PipelineQueuedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('PipelineQueued'),
  data: z.strictObject({
    ...pipelineData,
    /** The step that waits for a slot (0-based). */
    step: z.number().int().min(0).max(63),
    /** The session the step will run as once it has a slot (not spawned yet). */
    sessionId: UuidSchema,
    agentName: AgentNameSchema,
    /** Its place in the store's queue when it began to wait (1: next). */
    position: z.number().int().min(1),
  }),
});

/**
 * A step of the pipeline waits in the store's queue for a concurrency slot: it has not spawned.
 * It starts (its session appears) once it has one; nothing else ends the wait.
 */
export type PipelineQueued = z.infer<typeof PipelineQueuedSchema>;

/** What a notification tells. */
export const NotificationKindSchema = z.enum(['pipeline.completed', 'pipeline.failed', 'pipeline.waiting', 'step.interrupted']);

/** What a notification tells: the pipeline completed, failed or waits for a person, or a step's work was interrupted. */
export type NotificationKind = z.infer<typeof NotificationKindSchema>;

/** Zod schema of {@link PipelineNotified}. */
export const PipelineNotifiedSchema = z.strictObject({
  ...envelopeShape,
  type: z.literal('PipelineNotified'),
  data: z.strictObject({
    ...pipelineData,
    /** The notification's id: the same for every delivery of it, to every target, and after any crash. */
    notification: UuidSchema,
    kind: NotificationKindSchema,
    /** Where it went: `command` (the manager's hook), or `webhook:` and a digest of the URL (a URL may hold a token: it is never logged). */
    target: z.string().min(1).max(80),
    /** Tries made (the first included). */
    attempts: z.number().int().min(1).max(1000),
    /** Whether the receiver took it (a 2xx answer, a hook that exited 0); false: given up after `attempts`. */
    delivered: z.boolean(),
    /** The last failure, when there was one. */
    error: boundedText(LIMITS.errorText, 'error').optional(),
  }),
});

/** A notification was delivered to one target (or given up on): recorded so a resumed pipeline delivers each exactly once per target unless a crash cut in. */
export type PipelineNotified = z.infer<typeof PipelineNotifiedSchema>;
