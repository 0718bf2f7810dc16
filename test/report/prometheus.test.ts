import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { v4 as uuidv4 } from 'uuid';
import { PostgresEventStore, SessionManager, prometheusMetrics, prometheusText } from '../../src/index.js';
import { FileSlotTable } from '../../src/store/file/file-slots.js';
import { SlotTable } from '../../src/store/slot-store.js';
import { dashboardOn, dashboardOnPostgres, fetchFrom } from '../helpers/dashboard.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * The Prometheus exposition (the library's and serve's `/metrics`) parses with a Prometheus
 * text-format parser, and its counts equal `stats`.
 */
interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

const valueOf = (families: Family[], name: string, labels: Record<string, string> = {}): number => {
  const family = families.find((f) => f.name === name);
  if (family === undefined) throw new Error(`no family ${name}`);
  const metric = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v) && Object.keys(m.labels ?? {}).length === Object.keys(labels).length);
  if (metric === undefined) throw new Error(`no ${name}${JSON.stringify(labels)}`);
  return Number(metric.value);
};

describe('Prometheus metrics', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  async function storeOfSessions(): Promise<SessionManager> {
    const manager = await SessionManager.open(join(dir, 'store'));
    const context = (currentPhase: 'CodeGeneration' | 'Review') => ({ issueNumber: 1, currentPhase, worktreePath: null });
    for (let i = 0; i < 3; i += 1) {
      const root = await manager.spawnAgentSession('CodeGenAgent', `task ${i}`, context('CodeGeneration'));
      const review = await manager.handoff(root.id, 'ReviewAgent', context('Review'), { result: { success: true, output: 'code', totalCostUsd: 0.25, numTurns: 3 } });
      if (i === 0) await manager.failSession(review.id, 'tests fail', { success: false, output: 'no', totalCostUsd: 0.1, numTurns: 1 });
      else if (i === 1) await manager.completeSession(review.id, { success: true, output: 'LGTM', totalCostUsd: 0.05, numTurns: 2 });
    }
    return manager;
  }

  it("parse as Prometheus text, and count what stats counts: by status, by agent, cost and turns by agent, the log's events, this process's appends", async () => {
    const manager = await storeOfSessions();
    try {
      const stats = await manager.getStats();
      const families = parsePrometheus(await prometheusMetrics(manager)) as Family[];
      for (const [status, key] of [['Active', 'active'], ['HandedOff', 'handedOff'], ['Completed', 'completed'], ['Failed', 'failed']] as const) {
        expect(valueOf(families, 'miyabi_sessions', { status }), status).toBe(stats[key]);
        for (const agent of Object.keys(stats.byAgent)) expect(valueOf(families, 'miyabi_agent_sessions', { agent, status })).toBe(stats.byAgent[agent]![key]);
      }
      expect(stats.spendByAgent).toEqual({ CodeGenAgent: { costUsd: 0.75, turns: 9 }, ReviewAgent: { costUsd: 0.15, turns: 3 } });
      expect(valueOf(families, 'miyabi_agent_cost_usd_total', { agent: 'CodeGenAgent' })).toBe(0.75);
      expect(valueOf(families, 'miyabi_agent_turns_total', { agent: 'ReviewAgent' })).toBe(3);
      expect(valueOf(families, 'miyabi_log_events_total')).toBe(manager.lastSeq);
      expect(valueOf(families, 'miyabi_agents_running')).toBe(0);
      // 3 spawns, 3 handoffs, 1 fail, 1 complete: 8 appends, each in the histogram.
      expect(valueOf(families, 'miyabi_appends_total')).toBe(8);
      const histogram = families.find((f) => f.name === 'miyabi_append_duration_seconds')!;
      expect(histogram.type).toBe('HISTOGRAM');
      expect(histogram.metrics[0]).toMatchObject({ count: '8', buckets: expect.objectContaining({ '+Inf': '8' }) });
      expect(families.every((f) => f.name.startsWith('miyabi_'))).toBe(true);
    } finally {
      await manager.close();
    }
  });

  it("serve's /metrics answers the same counts, and the concurrency limit with the slots held and the queue", async () => {
    const manager = await storeOfSessions();
    const stats = await manager.getStats();
    await manager.close();
    const store = join(dir, 'store');
    const slots = new SlotTable(new FileSlotTable(store));
    await slots.setLimit({ limit: 1, perAgent: { DeployAgent: 1 } });
    await slots.enter({ holder: uuidv4(), agent: 'CodeGenAgent', pipeline: null, keeper: 'vm/1/-', leaseMs: 60_000 });
    await slots.enter({ holder: uuidv4(), agent: 'ReviewAgent', pipeline: uuidv4(), keeper: 'vm/1/-', leaseMs: 60_000 });
    const dashboard = await dashboardOn(store);
    try {
      const answer = await fetchFrom(dashboard.url, '/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const families = parsePrometheus(answer.body) as Family[];
      expect(valueOf(families, 'miyabi_sessions', { status: 'HandedOff' })).toBe(stats.handedOff);
      expect(valueOf(families, 'miyabi_agent_cost_usd_total', { agent: 'ReviewAgent' })).toBe(stats.spendByAgent['ReviewAgent']!.costUsd);
      expect(valueOf(families, 'miyabi_concurrency_limit')).toBe(1);
      expect(valueOf(families, 'miyabi_concurrency_limit', { agent: 'DeployAgent' })).toBe(1);
      expect(valueOf(families, 'miyabi_concurrency_slots_held')).toBe(1);
      expect(valueOf(families, 'miyabi_concurrency_queued')).toBe(1);
      expect(valueOf(families, 'miyabi_pipelines_queued')).toBe(1);
      // A process that made no append shows none.
      expect(families.some((f) => f.name === 'miyabi_appends_total')).toBe(false);
    } finally {
      await dashboard.close();
    }
  });

  it('on PostgreSQL, /metrics counts from the sessions table what the manager counts from its sessions', async () => {
    const schema = freshSchema();
    const manager = await SessionManager.open(join(dir, 'cache'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
    let dashboard: Awaited<ReturnType<typeof dashboardOnPostgres>> | null = null;
    const reader = new PostgresEventStore({ connectionString: PG_URL, schema });
    try {
      const context = { issueNumber: 2, currentPhase: 'CodeGeneration' as const, worktreePath: null };
      for (let i = 0; i < 4; i += 1) {
        const s = await manager.spawnAgentSession(i % 2 === 0 ? 'CodeGenAgent' : 'TestAgent', `t${i}`, context);
        await manager.completeSession(s.id, { success: true, output: 'ok', totalCostUsd: 0.1 * (i + 1), numTurns: i + 1 });
      }
      const stats = await manager.getStats();
      dashboard = await dashboardOnPostgres(reader);
      const families = parsePrometheus((await fetchFrom(dashboard.url, '/metrics')).body) as Family[];
      expect(valueOf(families, 'miyabi_sessions', { status: 'Completed' })).toBe(4);
      for (const agent of ['CodeGenAgent', 'TestAgent']) {
        expect(valueOf(families, 'miyabi_agent_cost_usd_total', { agent }), agent).toBe(stats.spendByAgent[agent]!.costUsd);
        expect(valueOf(families, 'miyabi_agent_turns_total', { agent }), agent).toBe(stats.spendByAgent[agent]!.turns);
      }
      expect(stats.spendByAgent).toEqual({ CodeGenAgent: { costUsd: 0.4, turns: 4 }, TestAgent: { costUsd: 0.6, turns: 6 } });
    } finally {
      await dashboard?.close();
      await manager.close();
      await reader.close();
      await dropSchema(schema);
    }
  });

  it('escapes label values as the text format asks', () => {
    const stats = { total: 1, active: 1, handedOff: 0, completed: 0, failed: 0, byAgent: { 'a"b\\c\nd': { total: 1, active: 1, handedOff: 0, completed: 0, failed: 0 } }, byPhase: {} as never, durations: { ended: 0, totalMs: 0, meanMs: null, maxMs: null }, totalCostUsd: 0, totalTurns: 0, spendByAgent: {} };
    const text = prometheusText({ stats, lastSeq: 1, agentsRunning: 0, slots: null, appends: null });
    expect(text).toContain('miyabi_agent_sessions{agent="a\\"b\\\\c\\nd",status="Active"} 1');
    const families = parsePrometheus(text) as Family[];
    expect(families.find((f) => f.name === 'miyabi_agent_sessions')!.metrics.length).toBe(4);
  });
});
