import type { EventSink } from '../store/event-store.js';
import { evolveSessions, type SessionsState } from './sessions-projection.js';

/**
 * A store's sink that folds every event into `state` and answers from it: the consumer of a
 * writer that keeps nothing else (a copy's target, an import).
 */
export function projectionSink(state: SessionsState): EventSink {
  return {
    apply: (events) => {
      for (const event of events) evolveSessions(state, event);
    },
    revisionOf: (id) => state.sessions.get(id)?.revision ?? 0,
  };
}
