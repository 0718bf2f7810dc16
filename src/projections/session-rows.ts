import { runCostOf } from '../domain/agent-result.js';
import type { Session } from '../domain/session.js';
import type { SessionEvent } from '../events/session-event.js';
import type { SessionRow } from '../store/postgres/session-row.js';
import { searchableTexts } from './session-query.js';
import { toNanos } from './stats.js';

/**
 * The rows of `touched`, the sessions `events` touched as the projection's own fold left them
 * (`foldTouched`), so the table holds what replaying the log holds.
 */
export function rowsOfTouched(events: readonly SessionEvent[], touched: readonly Session[]): SessionRow[] {
  const spawnAt = new Map<string, number>();
  const lastAt = new Map<string, number>();
  const textChanged = new Set<string>();
  events.forEach((event, i) => {
    if (event.type === 'SessionSpawned') spawnAt.set(event.sessionId, i + 1);
    if (event.type !== 'SessionAgentStarted') textChanged.add(event.sessionId);
    lastAt.set(event.sessionId, i + 1);
  });
  return touched.map((session) => ({
    id: session.id,
    spawn: spawnAt.get(session.id) ?? null,
    last: lastAt.get(session.id)!,
    revision: session.revision,
    status: session.status,
    agent: session.agentName,
    phase: session.context.currentPhase,
    issue: session.context.issueNumber,
    parent: session.parentSession,
    retry_of: session.retryOf ?? null,
    created_at: session.createdAt,
    created_ms: Date.parse(session.createdAt),
    ended_at: session.endedAt ?? null,
    ended_ms: session.endedAt === undefined ? null : Date.parse(session.endedAt),
    cost_nanos: toNanos(runCostOf(session.result)),
    turns: session.result?.numTurns ?? 0,
    search: textChanged.has(session.id) ? searchTextOf(session) : null,
  }));
}

/**
 * The text a `text` filter is first looked for in, in SQL: the searchable texts lower-cased as
 * the query lower-cases them, one a line, without NUL (which PostgreSQL's text cannot hold). A
 * needle free of both (`searchableInSql`) is found here whenever the query's own test would find it.
 */
export function searchTextOf(session: Session): string {
  return searchableTexts(session).join('\n').replaceAll('\u0000', '');
}
