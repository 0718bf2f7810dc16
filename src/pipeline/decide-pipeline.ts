import { BudgetUsdSchema } from '../domain/agent-caps.js';
import { ActorNameSchema, LIMITS, boundedText } from '../domain/limits.js';
import { parseInput } from '../domain/parse-input.js';
import { SessionError } from '../errors.js';
import { EVENT_SCHEMA_VERSION } from '../events/event-envelope.js';
import type { WaitReason } from '../events/pipeline-events.js';
import type { PendingEvent } from '../events/session-event.js';
import type { DecisionClock } from '../manager/decide.js';
import type { AppendRequest } from '../store/event-store.js';
import type { PipelineStream } from '../projections/pipeline-stream.js';

/*
 * The decisions on a pipeline's own stream, pure like the sessions' (manager/decide.ts): each
 * checks its input and the stream as read, and returns one event to append on the stream's
 * revision, so a decision made on a stale stream is refused by the store (CONFLICT).
 */

const OptionalBy = ActorNameSchema.optional();
const ReasonSchema = boundedText(LIMITS.errorText, 'reason').min(1, 'reason must not be empty');
const OptionalAdd = BudgetUsdSchema.optional();

/** What a wait records. */
export interface WaitInput {
  reason: WaitReason;
  step: number;
  sessionId: string;
  detail: string;
}

/** Decides that the pipeline waits for a person; refused (`INVALID_TRANSITION`) while it waits already or after a rejection. */
export function decideWaiting(stream: PipelineStream, input: WaitInput, clock: DecisionClock): AppendRequest {
  if (stream.state !== 'open') throw notAllowed(stream, stream.state === 'waiting' ? 'it waits already' : 'it was rejected');
  const detail = input.detail.slice(0, LIMITS.errorText);
  return onStream(stream, { ...envelope(stream, clock), type: 'PipelineWaiting', data: { rootId: stream.rootId, reason: input.reason, step: input.step, sessionId: input.sessionId, detail } });
}

/** Options of an approval. */
export interface ApproveInput {
  /** US dollars added to the waiting step's budget and the pipeline's (required when it waits for budget). */
  addBudgetUsd?: unknown;
  /** Who approves. */
  by?: unknown;
}

/**
 * Decides an approval of the open wait. Throws `INVALID_INPUT` for a bad amount or name, or
 * for a wait for budget approved without adding any (it would only wait again), and
 * `INVALID_TRANSITION` when the pipeline does not wait.
 */
export function decideApprove(stream: PipelineStream, input: ApproveInput, clock: DecisionClock): AppendRequest {
  const addBudgetUsd = parseInput(OptionalAdd, input.addBudgetUsd, 'addBudgetUsd');
  const by = parseInput(OptionalBy, input.by, 'by');
  const wait = openWait(stream);
  if (wait.reason === 'budget' && addBudgetUsd === undefined) {
    throw new SessionError('INVALID_INPUT', `pipeline ${stream.rootId} waits because its budget is spent (${wait.detail}): approve it with more budget (addBudgetUsd, --add-budget USD)`, { sessionId: stream.rootId });
  }
  const data = addBudgetUsd === undefined ? { rootId: stream.rootId } : { rootId: stream.rootId, addBudgetUsd };
  return onStream(stream, { ...envelope(stream, clock, by), type: 'PipelineApproved', data });
}

/** Decides a rejection of the open wait: the pipeline ends Failed with `reason`. Throws `INVALID_INPUT`, `INVALID_TRANSITION`. */
export function decideReject(stream: PipelineStream, input: { reason?: unknown; by?: unknown }, clock: DecisionClock): AppendRequest {
  const reason = parseInput(ReasonSchema, input.reason ?? 'rejected', 'reason');
  const by = parseInput(OptionalBy, input.by, 'by');
  openWait(stream);
  return onStream(stream, { ...envelope(stream, clock, by), type: 'PipelineRejected', data: { rootId: stream.rootId, reason } });
}


/** What a delivery record says (its stream's root is added). */
export type DeliveryInput = Omit<Extract<PendingEvent, { type: 'PipelineNotified' }>['data'], 'rootId'>;

/** Decides a delivery record: it fits the stream in any state, so only the revision it is decided on can make it stale. */
export function decideNotified(stream: PipelineStream, delivery: DeliveryInput, clock: DecisionClock): AppendRequest {
  return onStream(stream, { ...envelope(stream, clock), type: 'PipelineNotified', data: { rootId: stream.rootId, ...delivery } });
}

/** What a queue record says (its stream's root is added). */
export type QueuedInput = Omit<Extract<PendingEvent, { type: 'PipelineQueued' }>['data'], 'rootId'>;

/** Decides that a step waits in the store's queue for a slot; refused (`INVALID_TRANSITION`) while the pipeline waits for a person or after a rejection. */
export function decideQueued(stream: PipelineStream, queued: QueuedInput, clock: DecisionClock): AppendRequest {
  if (stream.state !== 'open') throw notAllowed(stream, stream.state === 'waiting' ? 'it waits for a person' : 'it was rejected');
  return onStream(stream, { ...envelope(stream, clock), type: 'PipelineQueued', data: { rootId: stream.rootId, ...queued } });
}

function openWait(stream: PipelineStream) {
  const wait = stream.waits.at(-1);
  // Stryker disable next-line ConditionalExpression: equivalent, a stream folds to 'waiting' only with a wait recorded; the test is for the type
  if (stream.state !== 'waiting' || wait === undefined) throw notAllowed(stream, stream.state === 'rejected' ? 'it was rejected' : 'it is not waiting for approval');
  return wait;
}

function notAllowed(stream: PipelineStream, why: string): SessionError {
  return new SessionError('INVALID_TRANSITION', `pipeline ${stream.rootId}: not allowed, ${why}`, { sessionId: stream.rootId });
}

function onStream(stream: PipelineStream, event: PendingEvent): AppendRequest {
  return { events: [event], expectedRevisions: new Map([[stream.pipelineId, stream.revision]]) };
}

function envelope(stream: PipelineStream, clock: DecisionClock, by?: string) {
  const fields = { id: clock.newId(), sessionId: stream.pipelineId, timestamp: clock.now, schemaVersion: EVENT_SCHEMA_VERSION } as const;
  return by === undefined ? fields : { ...fields, by };
}
