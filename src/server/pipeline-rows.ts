import type { Session } from '../domain/session.js';
import { ORDER_PASSES, parseSessionQuery, sessionMatcher, type SessionOrder, type SessionQuery } from '../projections/session-query.js';
import type { SessionReads } from '../query/session-reads.js';
import type { PipelineRow } from './views.js';

/** Pipelines a page of the pipelines view shows. */
export const PIPELINES_PAGE = 20;

/**
 * The pipelines that hold a session matching `filters`, in `order` (`newest` first by default,
 * by their newest matching session; `spawn`: oldest first, by their first; `failures-first`:
 * those with a matching Failed step first), `want` of them from the cursor `after`; each with
 * its root and every step in spawn order. Paged by the sessions' own cursor: a pipeline is shown
 * at the first of its matching sessions the sessions' walk meets, so no page repeats one.
 * Throws `INVALID_INPUT` for a bad filter or cursor.
 */
export async function pipelineRows(
  reads: SessionReads,
  filters: Omit<SessionQuery, 'order' | 'limit' | 'after'>,
  after: string | undefined,
  want = PIPELINES_PAGE,
  order: SessionOrder = 'newest',
): Promise<{ rows: PipelineRow[]; next: string | null }> {
  const parsed = parseSessionQuery({ ...filters, order });
  const statuses = parsed.status === undefined ? null : new Set([parsed.status].flat());
  const matcher = sessionMatcher(parsed);
  const matches = (s: Session) => (statuses === null || statuses.has(s.status)) && (matcher === null || matcher(s));
  const passes = ORDER_PASSES[order];
  // Where the walk meets a step, among its pipeline's (in spawn order): its pass, then its place that way.
  const walkKey = (steps: readonly Session[], at: number) => {
    const pass = passes.findIndex((p) => p.failed === undefined || (steps[at]!.status === 'Failed') === p.failed);
    return pass * (steps.length + 1) + (passes[pass]!.reverse ? steps.length - at : at);
  };
  const rows: PipelineRow[] = [];
  let cursor = after;
  while (rows.length < want) {
    // Never more sessions than pipelines still wanted: the page's own cursor then ends where this one does.
    const page = await reads.page({ ...filters, order, limit: want - rows.length, ...(cursor === undefined ? {} : { after: cursor }) });
    // Every pipeline of the page at once: on PostgreSQL, three queries rather than a few a row.
    const pipelines = await reads.pipelinesOf(page.sessions.map((s) => s.id));
    for (const session of page.sessions) {
      const pipeline = pipelines.get(session.id);
      if (pipeline === undefined) continue;
      const steps = [...pipeline.values()];
      const key = walkKey(steps, steps.findIndex((s) => s.id === session.id));
      // Shown where the walk first meets a matching step of it: not here when it met one before.
      if (steps.some((s, at) => matches(s) && walkKey(steps, at) < key)) continue;
      rows.push({ root: steps[0]!, steps });
    }
    if (page.next === null) return { rows, next: null };
    cursor = page.next;
  }
  return { rows, next: cursor ?? null };
}
