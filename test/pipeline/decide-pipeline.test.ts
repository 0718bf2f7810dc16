import { describe, expect, it } from 'vitest';
import { decideApprove, decideNotified, decideQueued, decideReject, decideWaiting, type WaitInput } from '../../src/pipeline/decide-pipeline.js';
import { foldPipelineStream, type PipelineStream } from '../../src/projections/pipeline-stream.js';
import { pipelineIdOf } from '../../src/domain/pipeline-id.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { PipelineEvent } from '../../src/events/session-event.js';
import type { AppendRequest } from '../../src/store/event-store.js';
import type { DecisionClock } from '../../src/manager/decide.js';

/*
 * The decisions on a pipeline's own stream, alone: each returns exactly one event on the stream's
 * revision, or refuses with a typed error that says why. The stream is folded from the decisions'
 * own events, as a reader would fold it from the log.
 */

const NOW = '2026-11-30T06:00:00.000Z';
const ROOT = '3f1d8a52-0000-4000-8000-000000000000';
const STEP_SESSION = '3f1d8a52-0000-4000-8000-000000000001';
const clock: DecisionClock = { now: NOW, newId: () => '00000000-0000-4000-8000-0000000000ee' };
const WAIT: WaitInput = { reason: 'gate', step: 1, sessionId: STEP_SESSION, detail: 'step 2 (ReviewAgent) waits for approval' };

/** A stream built by folding these decisions in turn, each decided on the stream so far. */
function streamAfter(...decisions: Array<(stream: PipelineStream) => AppendRequest>): PipelineStream {
  const events: PipelineEvent[] = [];
  let stream = foldPipelineStream(pipelineIdOf(ROOT), ROOT, []);
  for (const decide of decisions) {
    events.push({ ...decide(stream).events[0]!, seq: events.length + 1 } as PipelineEvent);
    stream = foldPipelineStream(pipelineIdOf(ROOT), ROOT, events);
  }
  return stream;
}

const wait = (input: WaitInput = WAIT) => (s: PipelineStream) => decideWaiting(s, input, clock);
const approve = (s: PipelineStream) => decideApprove(s, { addBudgetUsd: 1 }, clock);
const reject = (s: PipelineStream) => decideReject(s, {}, clock);
const envelope = (stream: PipelineStream) => ({ id: '00000000-0000-4000-8000-0000000000ee', sessionId: stream.pipelineId, timestamp: NOW, schemaVersion: EVENT_SCHEMA_VERSION });

describe('decisions on a pipeline stream', () => {
  it('a wait: one PipelineWaiting on the stream revision, its detail cut to the error limit', () => {
    const stream = streamAfter();
    const request = decideWaiting(stream, { ...WAIT, detail: 'd'.repeat(64 * 1024 + 10) }, clock);
    expect(request.events).toEqual([{ ...envelope(stream), type: 'PipelineWaiting', data: { rootId: ROOT, reason: 'gate', step: 1, sessionId: STEP_SESSION, detail: 'd'.repeat(64 * 1024) } }]);
    expect(request.expectedRevisions).toEqual(new Map([[pipelineIdOf(ROOT), 0]]));
    expect(() => decideWaiting(streamAfter(wait()), WAIT, clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it waits already`, sessionId: ROOT }),
    );
    expect(() => decideWaiting(streamAfter(wait(), reject), WAIT, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it was rejected` }));
    // Approved, the stream is open again: the next wait is on revision 2.
    expect(decideWaiting(streamAfter(wait(), approve), WAIT, clock).expectedRevisions).toEqual(new Map([[pipelineIdOf(ROOT), 2]]));
  });

  it('an approval: with or without added budget, by someone or no one; refused when nothing waits', () => {
    const waiting = streamAfter(wait());
    expect(decideApprove(waiting, {}, clock)).toStrictEqual({ events: [{ ...envelope(waiting), type: 'PipelineApproved', data: { rootId: ROOT } }], expectedRevisions: new Map([[waiting.pipelineId, 1]]) });
    expect(decideApprove(waiting, { addBudgetUsd: 2.5, by: 'alice' }, clock).events).toEqual([{ ...envelope(waiting), by: 'alice', type: 'PipelineApproved', data: { rootId: ROOT, addBudgetUsd: 2.5 } }]);
    expect(() => decideApprove(streamAfter(), {}, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it is not waiting for approval` }));
    expect(() => decideApprove(streamAfter(wait(), reject), {}, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it was rejected` }));
    expect(() => decideApprove(streamAfter(wait(), approve), {}, clock)).toThrow(expect.objectContaining({ message: `pipeline ${ROOT}: not allowed, it is not waiting for approval` }));
    expect(() => decideApprove(waiting, { addBudgetUsd: -1 }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/addBudgetUsd/) }));
    expect(() => decideApprove(waiting, { by: '' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid by/) }));
  });

  it('a wait for budget is approved only with more budget', () => {
    const budget = streamAfter(wait({ ...WAIT, reason: 'budget', detail: 'spent $5.00 of $5.00' }));
    expect(() => decideApprove(budget, {}, clock)).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: `pipeline ${ROOT} waits because its budget is spent (spent $5.00 of $5.00): approve it with more budget (addBudgetUsd, --add-budget USD)`,
        sessionId: ROOT,
      }),
    );
    expect(decideApprove(budget, { addBudgetUsd: 1 }, clock).events[0]!.data).toEqual({ rootId: ROOT, addBudgetUsd: 1 });
    // A turn cap is approved as it is.
    expect(decideApprove(streamAfter(wait({ ...WAIT, reason: 'turns' })), {}, clock).events[0]!.data).toEqual({ rootId: ROOT });
  });

  it("a rejection: its reason ('rejected' when none is given) and who; refused when nothing waits or for a bad reason", () => {
    const waiting = streamAfter(wait());
    expect(decideReject(waiting, {}, clock)).toStrictEqual({ events: [{ ...envelope(waiting), type: 'PipelineRejected', data: { rootId: ROOT, reason: 'rejected' } }], expectedRevisions: new Map([[waiting.pipelineId, 1]]) });
    expect(decideReject(waiting, { reason: 'too risky', by: 'bob' }, clock).events).toEqual([{ ...envelope(waiting), by: 'bob', type: 'PipelineRejected', data: { rootId: ROOT, reason: 'too risky' } }]);
    expect(() => decideReject(waiting, { reason: '' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid reason: .*reason must not be empty/) }));
    expect(() => decideReject(waiting, { reason: 'r\0' }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/reason must not contain NUL/) }));
    expect(() => decideReject(waiting, { by: 7 }, clock)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^invalid by/) }));
    expect(() => decideReject(streamAfter(), {}, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it is not waiting for approval` }));
    expect(() => decideReject(streamAfter(wait(), reject), {}, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it was rejected` }));
  });

  it('a delivery record fits in any state; a queue record only while the pipeline is open', () => {
    const delivery = { notification: '00000000-0000-4000-8000-0000000000aa', kind: 'pipeline.failed' as const, target: 'command', attempts: 1, delivered: true };
    for (const stream of [streamAfter(), streamAfter(wait()), streamAfter(wait(), reject)]) {
      expect(decideNotified(stream, delivery as never, clock)).toEqual({
        events: [{ ...envelope(stream), type: 'PipelineNotified', data: { rootId: ROOT, ...delivery } }],
        expectedRevisions: new Map([[stream.pipelineId, stream.revision]]),
      });
    }
    const queued = { step: 2, sessionId: STEP_SESSION, agentName: 'TestAgent', position: 3 };
    const open = streamAfter(wait(), approve);
    expect(decideQueued(open, queued, clock)).toEqual({ events: [{ ...envelope(open), type: 'PipelineQueued', data: { rootId: ROOT, ...queued } }], expectedRevisions: new Map([[open.pipelineId, 2]]) });
    expect(() => decideQueued(streamAfter(wait()), queued, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it waits for a person` }));
    expect(() => decideQueued(streamAfter(wait(), reject), queued, clock)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', message: `pipeline ${ROOT}: not allowed, it was rejected` }));
  });
});
