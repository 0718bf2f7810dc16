import type { PipelineEvent } from '../events/session-event.js';
import type { WaitReason } from '../events/pipeline-events.js';

/** Where a pipeline's own stream stands: open (running), waiting for a person, or rejected (ended). */
export type PipelineStreamState = 'open' | 'waiting' | 'rejected';

/**
 * Why the next event of a pipeline's stream does not fit the stream so far, or null: a wait
 * begins only while none is open, an approval or a rejection answers an open wait, and
 * nothing follows a rejection. The same rule refuses a second answer to one wait, so two
 * people (or a person and the timeout) cannot both answer it. Delivery records fit anywhere.
 */
export function pipelineStreamRefusal(state: PipelineStreamState, event: PipelineEvent): string | null {
  // A delivery record changes nothing of the flow: it may come at any time, after a rejection too.
  if (event.type === 'PipelineNotified') return null;
  if (state === 'rejected') return 'the pipeline was rejected: its stream is closed';
  // A step waits for a slot only while nothing else holds the pipeline up.
  if (event.type === 'PipelineQueued') return state === 'waiting' ? 'the pipeline waits for a person, not for a slot' : null;
  if (event.type === 'PipelineWaiting') return state === 'waiting' ? 'the pipeline waits already' : null;
  return state === 'waiting' ? null : 'the pipeline is not waiting for approval';
}

/** The stream state after `event` (one {@link pipelineStreamRefusal} let through) in state `state`. */
export function nextStreamState(state: PipelineStreamState, event: PipelineEvent): PipelineStreamState {
  if (event.type === 'PipelineNotified' || event.type === 'PipelineQueued') return state;
  return event.type === 'PipelineWaiting' ? 'waiting' : event.type === 'PipelineApproved' ? 'open' : 'rejected';
}

/** A wait of a pipeline as its stream records it, with its answer once given. */
export interface RecordedWait {
  reason: WaitReason;
  step: number;
  sessionId: string;
  detail: string;
  since: string;
  /** The event that recorded it. */
  eventId: string;
  answer?: { approved: true; by?: string; at: string; addBudgetUsd?: number } | { approved: false; by?: string; at: string; reason: string };
}

/** A step's wait in the store's queue for a concurrency slot, as the stream records it. */
export interface RecordedQueue {
  step: number;
  /** The session the step runs as once it has a slot: the wait is over once that session exists. */
  sessionId: string;
  agentName: string;
  /** Its place in the queue when it began to wait. */
  position: number;
  since: string;
}

/** A pipeline's stream, folded: its waits in order (each with its answer), and the revision to append on. */
export interface PipelineStream {
  pipelineId: string;
  rootId: string;
  waits: RecordedWait[];
  /** Notifications settled per target (`<notification> <target>`): delivered, or given up on. */
  settled: Set<string>;
  /** Its steps' waits for a concurrency slot, oldest first. */
  queued: RecordedQueue[];
  state: PipelineStreamState;
  /** How many events the stream holds: the expected revision of the next append. */
  revision: number;
}

/** Folds a pipeline stream's events, oldest first. Throws (with the stream rule's words) on one that does not fit. */
export function foldPipelineStream(pipelineId: string, rootId: string, events: readonly PipelineEvent[]): PipelineStream {
  const stream: PipelineStream = { pipelineId, rootId, waits: [], settled: new Set(), queued: [], state: 'open', revision: 0 };
  for (const event of events) {
    const refusal = pipelineStreamRefusal(stream.state, event);
    if (refusal !== null) throw new Error(`event seq ${event.seq} (${event.type}) of pipeline ${rootId}: ${refusal}`);
    const by = event.by === undefined ? {} : { by: event.by };
    if (event.type === 'PipelineWaiting') {
      const { reason, step, sessionId, detail } = event.data;
      stream.waits.push({ reason, step, sessionId, detail, since: event.timestamp, eventId: event.id });
    } else if (event.type === 'PipelineQueued') {
      const { step, sessionId, agentName, position } = event.data;
      stream.queued.push({ step, sessionId, agentName, position, since: event.timestamp });
    } else if (event.type === 'PipelineNotified') {
      stream.settled.add(`${event.data.notification} ${event.data.target}`);
    } else if (event.type === 'PipelineApproved') {
      const add = event.data.addBudgetUsd === undefined ? {} : { addBudgetUsd: event.data.addBudgetUsd };
      stream.waits.at(-1)!.answer = { approved: true, at: event.timestamp, ...by, ...add };
    } else {
      stream.waits.at(-1)!.answer = { approved: false, at: event.timestamp, reason: event.data.reason, ...by };
    }
    stream.state = nextStreamState(stream.state, event);
    stream.revision += 1;
  }
  return stream;
}
