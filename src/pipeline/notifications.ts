import { v5 as uuidv5 } from 'uuid';
import type { PipelineSpec } from '../domain/pipeline-steps.js';
import { pipelineIdOf } from '../domain/pipeline-id.js';
import type { Session } from '../domain/session.js';
import type { NotificationKind } from '../events/pipeline-events.js';
import { ownCostOf } from './pipeline-budget.js';
import type { PipelineStream } from '../projections/pipeline-stream.js';

/** The namespace of notification ids (fixed: changing it would send every past notification again). */
const NOTIFICATION_NAMESPACE = 'c1f0a5e2-4d7b-4a61-9e3f-7b2d8c05e914';

/** A pipeline as a notification describes it. */
export interface PipelineSummary {
  rootId: string;
  pipelineId: string;
  issueNumber: number | null;
  purpose: string;
  status: 'Running' | 'Waiting' | 'Completed' | 'Failed';
  /** Each step: its agent, phase and latest session (null before it started). */
  steps: Array<{ agentName: string; phase: string; status: Session['status'] | null; sessionId: string | null }>;
  /** What the agents' runs cost, in US dollars (each run's own cost). */
  costUsd: number;
  error?: string;
}

/** One notification: the same body goes to every target, and again after a crash, under the same id. */
export interface Notification {
  /** Stable: the wait's event id, or derived from the session whose end it reports (a session ends once). */
  id: string;
  kind: NotificationKind;
  /** When what it reports happened. */
  at: string;
  pipeline: PipelineSummary;
  /** The session it is about (the interrupted step, the last step). */
  session?: { id: string; agentName: string; status: Session['status']; error?: string };
  /** For `pipeline.waiting`: what it waits for. */
  waiting?: { reason: string; step: number; detail: string };
}

/** Where a pipeline stands, as the replay of its log found it. */
export interface PipelineStanding {
  root: Session;
  spec: PipelineSpec;
  /** Each step's attempts, oldest first. */
  steps: readonly Session[][];
  stream: Pick<PipelineStream, 'waits' | 'state'>;
  /** The run's state: done (completed or failed, with the error) or not. */
  ended: { status: 'Completed' | 'Failed'; error?: string } | null;
}

/**
 * Every notification the pipeline's log calls for as it stands: each step interrupted, the
 * wait that is open (a wait already answered needs nobody), and the end. Pure: the notifier
 * delivers those not yet settled.
 */
export function notificationsOf(standing: PipelineStanding): Notification[] {
  const { root, steps, stream, ended } = standing;
  const attempts = steps.flat();
  const summary = summaryOf(standing);
  const sessionOf = (s: Session) => ({ id: s.id, agentName: s.agentName, status: s.status, ...(s.error === undefined ? {} : { error: s.error }) });
  const out: Notification[] = [];
  for (const attempt of attempts) {
    if (attempt.status === 'Failed' && attempt.interrupted === true) {
      out.push({ id: uuidv5(`${attempt.id}/interrupted`, NOTIFICATION_NAMESPACE), kind: 'step.interrupted', at: attempt.endedAt ?? attempt.createdAt, pipeline: summary, session: sessionOf(attempt) });
    }
  }
  const wait = stream.waits.at(-1);
  if (stream.state === 'waiting' && wait !== undefined && ended === null) {
    out.push({ id: wait.eventId, kind: 'pipeline.waiting', at: wait.since, pipeline: summary, waiting: { reason: wait.reason, step: wait.step, detail: wait.detail } });
  }
  const last = attempts.at(-1);
  if (ended !== null && last !== undefined && last.status !== 'Active') {
    const kind = ended.status === 'Completed' ? 'pipeline.completed' : 'pipeline.failed';
    out.push({ id: uuidv5(`${root.id}/${kind}`, NOTIFICATION_NAMESPACE), kind, at: last.endedAt ?? last.createdAt, pipeline: summary, session: sessionOf(last) });
  }
  return out;
}

function summaryOf({ root, spec, steps, stream, ended }: PipelineStanding): PipelineSummary {
  const byId = new Map(steps.flat().map((s) => [s.id, s]));
  const costUsd = [...byId.values()].reduce((sum, s) => sum + ownCostOf(s, byId), 0);
  const status = ended?.status ?? (stream.state === 'waiting' ? 'Waiting' : 'Running');
  return {
    rootId: root.id,
    pipelineId: pipelineIdOf(root.id),
    issueNumber: root.context.issueNumber,
    purpose: root.purpose,
    status,
    steps: spec.steps.map((step, i) => {
      const latest = steps[i]?.at(-1);
      return { agentName: step.agentName, phase: step.phase, status: latest?.status ?? null, sessionId: latest?.id ?? null };
    }),
    costUsd: Math.round(costUsd * 1e6) / 1e6,
    ...(ended?.error === undefined ? {} : { error: ended.error }),
  };
}
