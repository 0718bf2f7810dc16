import { describe, expect, it } from 'vitest';
import { replayPipeline, stepAttempts } from '../../src/pipeline/pipeline-progress.js';
import { retryIdOf } from '../../src/domain/retry-id.js';
import type { Session } from '../../src/domain/session.js';
import type { PipelineSpec } from '../../src/domain/pipeline-steps.js';
import type { RecordedWait } from '../../src/projections/pipeline-stream.js';
import { FIXTURE_AT, numberedId, sessionFixture } from '../helpers/fixtures.js';

/*
 * The retry rules as the log records them: which attempts make up each step, and where the
 * pipeline machine stands once fed what happened (each attempt, and the stream's waits).
 */

const AT = FIXTURE_AT;
const ID = (n: number) => numberedId(n);
const session = sessionFixture;

const TWO: PipelineSpec = { steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'ReviewAgent', phase: 'Review' }] };
const GATED: PipelineSpec = { steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'ReviewAgent', phase: 'Review', approval: true }] };
const FINISHED = { process: { host: 'h', pid: 1, startTime: null }, supervisor: { host: 'h', pid: 2, startTime: null }, command: [], cwd: '/', logFile: '/l', resumedFrom: null, startedAt: AT, finishedAt: AT };

/** Where a replay stands: its state, and what its context says. */
function replay(spec: PipelineSpec, attempts: Session[], waits: RecordedWait[] = []) {
  const run = replayPipeline(spec, attempts, waits);
  const snapshot = run.getSnapshot();
  run.stop();
  const { index, retries, sessionIds, error, waiting } = snapshot.context;
  return { value: snapshot.value, recorded: run.recorded, index, retries, sessionIds, error, waiting };
}

function wait(over: Partial<RecordedWait>): RecordedWait {
  return { reason: 'gate', step: 1, sessionId: ID(1), detail: 'd', since: AT, eventId: ID(99), ...over };
}

describe('replayPipeline', () => {
  it('no attempt yet: starting; one Active attempt: running it', () => {
    expect(replay(TWO, [])).toMatchObject({ value: 'starting', recorded: true, sessionIds: [] });
    expect(replay(TWO, [session(1)])).toMatchObject({ value: 'running', index: 0, sessionIds: [ID(1)] });
  });

  it('an Active attempt whose agent finished with success counts as done; not without success or while it runs', () => {
    expect(replay(TWO, [session(1, { agent: FINISHED, result: { success: true, output: 'x' } })])).toMatchObject({ value: 'handingOff', index: 1 });
    expect(replay(TWO, [session(1, { agent: FINISHED, result: { success: false, output: 'x' } })])).toMatchObject({ value: 'running', index: 0 });
    expect(replay(TWO, [session(1, { agent: { ...FINISHED, finishedAt: undefined }, result: { success: true, output: 'x' } })])).toMatchObject({ value: 'running' });
    expect(replay(TWO, [session(1, { agent: FINISHED })])).toMatchObject({ value: 'running' });
  });

  it('HandedOff then Completed: the pipeline completed', () => {
    expect(replay(TWO, [session(1, { status: 'HandedOff' }), session(2, { status: 'Completed', agentName: 'ReviewAgent' })])).toMatchObject({ value: 'completed', index: 1, sessionIds: [ID(1), ID(2)], error: undefined });
  });

  it('a step Completed before the last one was completed outside the pipeline: failed, saying so', () => {
    expect(replay(TWO, [session(1, { status: 'Completed' })])).toMatchObject({ value: 'failed', error: 'step 1 (CodeGenAgent) was completed outside the pipeline' });
  });

  it("a Failed step fails the pipeline with the session's error, or says which step failed", () => {
    expect(replay(TWO, [session(1, { status: 'Failed', error: 'tests red' })])).toMatchObject({ value: 'failed', error: 'tests red' });
    expect(replay(TWO, [session(1, { status: 'HandedOff' }), session(2, { status: 'Failed', agentName: 'ReviewAgent' })])).toMatchObject({ value: 'failed', error: 'step 2 (ReviewAgent) failed' });
    // Nothing after the end is fed in.
    expect(replay(TWO, [session(1, { status: 'Failed', error: 'x' }), session(2, { status: 'Completed' })])).toMatchObject({ value: 'failed', sessionIds: [ID(1)] });
  });

  it('an interrupted step runs again up to maxRetries times (2 by default), each retry counted', () => {
    const interrupted = (n: number, over: Partial<Session> = {}) => session(n, { status: 'Failed', interrupted: true, error: `killed ${n}`, ...over });
    expect(replay(TWO, [interrupted(1)])).toMatchObject({ value: 'retrying', retries: 1 });
    expect(replay(TWO, [interrupted(1), interrupted(2, { retryOf: ID(1) })])).toMatchObject({ value: 'retrying', retries: 2, sessionIds: [ID(2)] });
    expect(replay(TWO, [interrupted(1), interrupted(2, { retryOf: ID(1) }), interrupted(3, { retryOf: ID(2) })])).toMatchObject({ value: 'failed', error: 'killed 3', sessionIds: [ID(3)] });
    expect(replay({ ...TWO, maxRetries: 0 }, [interrupted(1)])).toMatchObject({ value: 'failed', error: 'killed 1' });
    expect(replay({ ...TWO, maxRetries: 3 }, [interrupted(1), interrupted(2, { retryOf: ID(1) }), interrupted(3, { retryOf: ID(2) })])).toMatchObject({ value: 'retrying', retries: 3 });
    // A retry that succeeds moves on, its retries reset for the next step.
    expect(replay(TWO, [interrupted(1), session(2, { status: 'HandedOff', retryOf: ID(1) })])).toMatchObject({ value: 'handingOff', index: 1, retries: 0, sessionIds: [ID(2)] });
  });

  it('a Failed step a person retried runs again, not counted; an interrupted one with retries left is counted', () => {
    const failed = session(1, { status: 'Failed', error: 'wrong' });
    expect(replay(TWO, [failed, session(2, { retryOf: ID(1) })])).toMatchObject({ value: 'running', retries: 0, sessionIds: [ID(2)] });
    // Without a retry after it, the failure stands.
    expect(replay(TWO, [failed, session(2, { retryOf: ID(7) })])).toMatchObject({ value: 'failed', error: 'wrong' });
    const interrupted = session(1, { status: 'Failed', interrupted: true, error: 'killed' });
    expect(replay(TWO, [interrupted, session(2, { retryOf: ID(1) })])).toMatchObject({ value: 'running', retries: 1 });
    // Out of retries, a person's retry still runs it again.
    expect(replay({ ...TWO, maxRetries: 0 }, [interrupted, session(2, { retryOf: ID(1) })])).toMatchObject({ value: 'running', retries: 0 });
  });

  it('a capped step waits for a person; an approval runs it again, a rejection fails the pipeline', () => {
    const capped = session(1, { status: 'Failed', capped: 'turns', error: 'reached 3 turns', interrupted: true });
    expect(replay(TWO, [capped])).toMatchObject({ value: 'awaitingApproval', recorded: false, waiting: { reason: 'turns', step: 0, detail: 'reached 3 turns', resumeTo: 'retrying' } });
    expect(replay(TWO, [capped], [wait({ reason: 'turns', step: 0 })])).toMatchObject({ value: 'awaitingApproval', recorded: true });
    expect(replay(TWO, [capped], [wait({ reason: 'turns', step: 0, answer: { approved: true, at: AT } })])).toMatchObject({ value: 'retrying', waiting: undefined });
    expect(replay(TWO, [capped], [wait({ reason: 'turns', step: 0, answer: { approved: false, at: AT, reason: 'too dear' } })])).toMatchObject({ value: 'failed', error: 'rejected: too dear' });
    expect(replay(TWO, [session(1, { status: 'Failed', capped: 'budget', error: 'spent $1' })])).toMatchObject({ waiting: { reason: 'budget' } });
  });

  it('a gate waits before its step; the attempts after a wait that is not answered are not fed in', () => {
    const first = session(1, { status: 'HandedOff' });
    expect(replay(GATED, [first])).toMatchObject({ value: 'awaitingApproval', recorded: false, index: 1, waiting: { reason: 'gate', detail: 'step 2 (ReviewAgent) requires approval' } });
    expect(replay(GATED, [first], [wait({})])).toMatchObject({ value: 'awaitingApproval', recorded: true });
    expect(replay(GATED, [first, session(2)], [wait({})])).toMatchObject({ value: 'awaitingApproval', recorded: true, sessionIds: [ID(1)] });
    // Without waits given, none is recorded.
    expect(replayPipeline(GATED, [first]).recorded).toBe(false);
    expect(replay(GATED, [first], [wait({ answer: { approved: true, at: AT } })])).toMatchObject({ value: 'handingOff', index: 1 });
    expect(replay(GATED, [first, session(2, { agentName: 'ReviewAgent', status: 'Completed' })], [wait({ answer: { approved: true, at: AT } })])).toMatchObject({ value: 'completed', sessionIds: [ID(1), ID(2)] });
  });

  it('two gates: the first answered, the run waits at the second, recorded', () => {
    const three: PipelineSpec = { steps: [...GATED.steps, { agentName: 'TestAgent', phase: 'Test', approval: true }] };
    const attempts = [session(1, { status: 'HandedOff' }), session(2, { agentName: 'ReviewAgent', status: 'HandedOff' })];
    const waits = [wait({ answer: { approved: true, at: AT } }), wait({ step: 2, sessionId: ID(2) })];
    expect(replay(three, attempts, waits)).toMatchObject({ value: 'awaitingApproval', recorded: true, index: 2, waiting: { reason: 'gate', detail: 'step 3 (TestAgent) requires approval' } });
    expect(replay(three, attempts, waits.slice(0, 1))).toMatchObject({ value: 'awaitingApproval', recorded: false, index: 2 });
  });

  it('an ended session whose agent finished with success counts by its status, not its agent', () => {
    const finished = { agent: FINISHED, result: { success: true, output: 'x' } };
    expect(replay(TWO, [session(1, { status: 'Completed', ...finished })])).toMatchObject({ value: 'failed', error: 'step 1 (CodeGenAgent) was completed outside the pipeline' });
    expect(replay(TWO, [session(1, { status: 'Failed', error: 'judged wrong', ...finished })])).toMatchObject({ value: 'failed', error: 'judged wrong' });
  });

  it('a budget wait met while a step runs is not a hold: holds come only before a step’s next session', () => {
    expect(replay(TWO, [session(1)], [wait({ reason: 'budget', step: 0, sessionId: ID(1) })])).toMatchObject({ value: 'running', sessionIds: [ID(1)] });
  });

  it('a budget hold recorded after the session before a step holds the run there, only for that step and session', () => {
    const first = session(1, { status: 'HandedOff' });
    const hold = wait({ reason: 'budget', step: 1, sessionId: ID(1), detail: 'spent $5 of $5' });
    expect(replay(TWO, [first], [hold])).toMatchObject({ value: 'awaitingApproval', recorded: true, waiting: { reason: 'budget', step: 1, detail: 'spent $5 of $5', resumeTo: 'handingOff' } });
    expect(replay(TWO, [first], [{ ...hold, step: 0 }])).toMatchObject({ value: 'handingOff' });
    expect(replay(TWO, [first], [{ ...hold, sessionId: ID(5) }])).toMatchObject({ value: 'handingOff' });
    expect(replay(TWO, [first], [{ ...hold, reason: 'gate' }])).toMatchObject({ value: 'handingOff' });
    expect(replay(TWO, [first, session(2)], [{ ...hold, answer: { approved: true, at: AT, addBudgetUsd: 1 } }])).toMatchObject({ value: 'running', index: 1, sessionIds: [ID(1), ID(2)] });
    // Before a retry: held after the interrupted attempt, resumed to retry it.
    const interrupted = session(1, { status: 'Failed', interrupted: true, error: 'killed' });
    expect(replay(TWO, [interrupted], [{ ...hold, step: 0 }])).toMatchObject({ value: 'awaitingApproval', waiting: { resumeTo: 'retrying', step: 0 } });
  });
});

describe('stepAttempts', () => {
  it('walks from the root: each step its attempts through their retries, then the last attempt’s child', async () => {
    const root = session(1, { status: 'Failed', interrupted: true });
    const retry = { ...session(0, { status: 'HandedOff', retryOf: root.id, childSessions: [ID(3), ID(4)] }), id: retryIdOf(root.id) };
    const review = session(3, { status: 'Failed', agentName: 'ReviewAgent' });
    const all = new Map([root, retry, review].map((s) => [s.id, s]));
    expect(await stepAttempts(root, (id) => all.get(id))).toEqual([[root, retry], [review]]);
    // An asynchronous lookup gives the same.
    expect(await stepAttempts(root, async (id) => all.get(id))).toEqual([[root, retry], [review]]);
    // A Failed attempt with no retry ends its step; a child not found ends the walk.
    expect(await stepAttempts(review, (id) => all.get(id))).toEqual([[review]]);
    expect(await stepAttempts(session(8, { status: 'HandedOff', childSessions: [ID(9)] }), () => undefined)).toEqual([[session(8, { status: 'HandedOff', childSessions: [ID(9)] })]]);
    // Only a Failed attempt is looked up for a retry.
    const looked: string[] = [];
    await stepAttempts(session(5, { status: 'Completed' }), (id) => void looked.push(id));
    expect(looked).toEqual([]);
  });
});
