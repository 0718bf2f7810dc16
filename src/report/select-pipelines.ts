import type { Session } from '../domain/session.js';
import type { SessionQuery } from '../projections/session-query.js';
import type { SessionReads } from '../query/session-reads.js';

/** Which pipelines a report shows. */
export interface PipelineSelection {
  /** The pipeline whose root session has this id, alone. */
  pipeline?: string;
  /** At most this many pipelines, the newest first (default {@link DEFAULT_PIPELINES}). */
  newest?: number;
  /** Only pipelines with a session matching this (its order, limit and cursor are ignored). */
  filter?: Omit<SessionQuery, 'limit' | 'after' | 'order' | 'pipeline'>;
}

/** How many pipelines a report shows unless asked for more. */
export const DEFAULT_PIPELINES = 20;

/** The sessions of the chosen pipelines, in spawn order, and how many pipelines they are. */
export interface SelectedPipelines {
  sessions: Map<string, Session>;
  pipelines: number;
  /** Whether more pipelines matched than were taken. */
  more: boolean;
}

/**
 * The newest pipelines that hold a session matching the filter (or the one asked for), whole:
 * found by walking the store newest first, climbing to each match's root and down its tree, so a
 * report of any store reads only the pipelines it shows (and the sessions passed on the way).
 */
export async function selectPipelines(sessions: SessionReads, selection: PipelineSelection = {}): Promise<SelectedPipelines> {
  const limit = selection.newest ?? DEFAULT_PIPELINES;
  const roots: string[] = [];
  let more = false;
  if (selection.pipeline !== undefined) {
    const root = await sessions.rootOf(selection.pipeline);
    if (root !== undefined) roots.push(root);
  } else {
    const seen = new Set<string>();
    for await (const session of sessions.stream({ ...selection.filter, order: 'newest' })) {
      const root = session.parentSession === null ? session.id : (await sessions.rootOf(session.id))!;
      if (seen.has(root)) continue;
      if (roots.length === limit) {
        more = true;
        break;
      }
      seen.add(root);
      roots.push(root);
    }
  }
  const ids: string[] = [];
  for (const root of roots) ids.push(...(await sessions.pipeline(root)).keys());
  return { sessions: await sessions.getMany(ids), pipelines: roots.length, more };
}
