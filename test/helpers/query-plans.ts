import pg from 'pg';
import { vi } from 'vitest';

/** A node of PostgreSQL's EXPLAIN (FORMAT JSON) plan. */
export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, outermost first. */
export function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

/** A query as the library sent it: its text and its values. */
export interface SentQuery {
  text: string;
  values: unknown[];
}

/** Runs `work` and returns the queries it sent through `pg`, whose text `pattern` matches, in order. */
export async function queriesSent(pattern: RegExp, work: () => Promise<void>): Promise<SentQuery[]> {
  const query = vi.spyOn(pg.Client.prototype, 'query');
  try {
    await work();
    const sent: SentQuery[] = [];
    for (const [arg, values] of query.mock.calls as unknown as Array<[string | { text: string; values?: unknown[] }, unknown[] | undefined]>) {
      const text = typeof arg === 'string' ? arg : arg.text;
      if (pattern.test(text)) sent.push({ text, values: (typeof arg === 'string' ? values : arg.values) ?? [] });
    }
    return sent;
  } finally {
    query.mockRestore();
  }
}
