import type { Session } from '../domain/session.js';
import { clonePlain } from '../domain/clone-plain.js';
import { isPipelineEvent, type SessionEvent } from '../events/session-event.js';
import { emptySessionsState, evolveSessions } from './sessions-projection.js';

/**
 * The sessions `events` touch, as they are after those events (`touched`): each starts from
 * `priorOf` (its state before them, copied, never changed) and is folded by
 * {@link evolveSessions}, the fold every projection uses. A spawn's parent and the session a
 * retry retries are brought in too, because the lineage rules check them; `states` holds every
 * session the fold held at its end, those brought in with the rest (a parent gains the child
 * spawned under it). `touched` is in the order the sessions were first touched. Throws
 * `CORRUPT_LOG` as the fold does when an event does not fit.
 */
export function foldTouched(events: readonly SessionEvent[], priorOf: (id: string) => Session | undefined): { touched: Session[]; states: ReadonlyMap<string, Session> } {
  const state = emptySessionsState();
  const touched = new Set<string>();
  const bring = (id: string | null | undefined) => {
    if (id == null || state.sessions.has(id)) return;
    const prior = priorOf(id);
    if (prior !== undefined) state.sessions.set(id, clonePlain(prior));
  };
  for (const event of events) {
    if (isPipelineEvent(event)) {
      // A pipeline stream's event changes no session; the fold checks it names a pipeline's root.
      bring(event.data.rootId);
      evolveSessions(state, event);
      continue;
    }
    bring(event.sessionId);
    if (event.type === 'SessionSpawned') {
      bring(event.data.parentSession);
      bring(event.data.retryOf);
    }
    evolveSessions(state, event);
    touched.add(event.sessionId);
  }
  return { touched: [...touched].map((id) => state.sessions.get(id)!), states: state.sessions };
}
