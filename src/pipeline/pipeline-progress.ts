import { createActor } from 'xstate';
import { pipelineMachine, type PipelineStep } from '../../machines/pipeline.machine.js';
import { DEFAULT_PIPELINE_RETRIES, type PipelineSpec } from '../domain/pipeline-steps.js';
import { retryIdOf } from '../domain/retry-id.js';
import type { Session } from '../domain/session.js';
import type { RecordedWait } from '../projections/pipeline-stream.js';

/** Finds a session by id (from a manager, asynchronously, or from a map). */
export type SessionLookup = (id: string) => Session | undefined | Promise<Session | undefined>;

/**
 * A pipeline's progress as the lineage records it: from the root down, each step's attempts in
 * the order they ran (a Failed attempt, then its retry, found by {@link retryIdOf}), the next
 * step being the handoff child of the step's last attempt. `root` must be current: the walk
 * starts from it as given.
 */
export async function stepAttempts(root: Session, lookup: SessionLookup): Promise<Session[][]> {
  const steps: Session[][] = [];
  let next: Session | undefined = root;
  while (next !== undefined) {
    const attempts: Session[] = [next];
    for (let at = next; at.status === 'Failed'; ) {
      const retry = await lookup(retryIdOf(at.id));
      if (retry === undefined) break;
      attempts.push(retry);
      at = retry;
    }
    steps.push(attempts);
    const child = attempts.at(-1)!.childSessions[0];
    next = child === undefined ? undefined : await lookup(child);
  }
  return steps;
}

/**
 * The pipeline machine fed with what the log says happened, attempt by attempt, and with the
 * pipeline's own stream (its waits for a person and their answers, in order): a started actor
 * (the caller stops it) whose state says what comes next: `retrying`, `handingOff`, `running`
 * (wait for the step's agent), `awaitingApproval` (its wait recorded or not: `recorded`), or
 * done, `completed` or `failed`. An Active session whose agent finished with success counts as
 * a step that succeeded (the move after it is the caller's to make).
 */
export function replayPipeline(spec: PipelineSpec, attempts: Session[], waits: readonly RecordedWait[] = []) {
  const maxRetries = spec.maxRetries ?? DEFAULT_PIPELINE_RETRIES;
  const run = createActor(pipelineMachine, { input: { steps: spec.steps as PipelineStep[], maxRetries } }).start();
  let next = 0;
  let recorded = true;
  // The run stands at a recorded wait nobody answered: it goes no further, and a later look
  // must not take the next wait (there is none) for this one's record.
  let unanswered = false;
  // Brings in the stream's waits where the run stands at one: an answered wait moves it on.
  const settle = () => {
    for (;;) {
      const snapshot = run.getSnapshot();
      const wait = waits[next];
      if (snapshot.value === 'awaitingApproval') {
        if (unanswered) return;
        if (wait === undefined) return void (recorded = false);
        next += 1;
        if (wait.answer === undefined) return void (unanswered = true);
        run.send(wait.answer.approved ? { type: 'APPROVED' } : { type: 'REJECTED', reason: wait.answer.reason });
      } else if ((snapshot.value === 'handingOff' || snapshot.value === 'retrying') && wait?.reason === 'budget' && wait.step === snapshot.context.index && wait.sessionId === snapshot.context.sessionIds.at(-1)) {
        // Held before the step's next session started, its budget spent: the wait follows the session before it
        // (a wait after a cap follows the capped session itself, which comes later).
        run.send({ type: 'HOLD', detail: wait.detail });
      } else return;
    }
  };
  for (const [at, session] of attempts.entries()) {
    settle();
    // Stryker disable next-line all: equivalent, a run that is done or awaits approval ignores every event an attempt sends; the break only spares the sends
    if (run.getSnapshot().status === 'done' || run.getSnapshot().value === 'awaitingApproval') break;
    run.send({ type: 'STEP_STARTED', sessionId: session.id });
    const step = `step ${run.getSnapshot().context.index + 1} (${session.agentName})`;
    if (session.status === 'HandedOff' || (session.status === 'Active' && session.agent?.finishedAt !== undefined && session.result?.success === true)) run.send({ type: 'STEP_SUCCEEDED' });
    else if (session.status === 'Failed') {
      const error = session.error ?? `${step} failed`;
      const automatic = session.interrupted === true && run.getSnapshot().context.retries < maxRetries;
      // Run again though the pipeline would not have: a person retried it (the next attempt is its retry).
      if (session.capped !== undefined) run.send({ type: 'STEP_CAPPED', cap: session.capped, error });
      else if (!automatic && attempts[at + 1]?.retryOf === session.id) run.send({ type: 'STEP_RETRIED' });
      else run.send(session.interrupted === true ? { type: 'STEP_INTERRUPTED', error } : { type: 'STEP_FAILED', error });
    } else if (session.status === 'Completed') {
      run.send({ type: 'STEP_SUCCEEDED' });
      // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, a run that is done ignores the event
      if (run.getSnapshot().status !== 'done') run.send({ type: 'STEP_FAILED', error: `${step} was completed outside the pipeline` });
    }
  }
  settle();
  return Object.assign(run, { recorded });
}
