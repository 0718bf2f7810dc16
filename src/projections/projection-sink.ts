import type { EventSink } from '../store/event-store.js';
import { isPipelineEvent } from '../events/session-event.js';
import { evolveSessions, type SessionsState } from './sessions-projection.js';

/**
 * A store's sink that folds every event into `state` and answers from it: the consumer of a
 * writer that keeps nothing else (a copy's target, an import). It is fed from the store's start,
 * so it counts each pipeline stream's events itself (the state holds sessions only).
 */
export function projectionSink(state: SessionsState): EventSink {
  const pipelineRevisions = new Map<string, number>();
  return {
    apply: (events) => {
      for (const event of events) {
        evolveSessions(state, event);
        if (isPipelineEvent(event)) pipelineRevisions.set(event.sessionId, (pipelineRevisions.get(event.sessionId) ?? 0) + 1);
      }
    },
    revisionOf: (id) => state.sessions.get(id)?.revision ?? pipelineRevisions.get(id) ?? 0,
  };
}
