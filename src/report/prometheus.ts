import { APPEND_BUCKETS_SECONDS, type AppendMetricsSnapshot } from '../manager/append-metrics.js';
import type { SessionManager } from '../manager/session-manager.js';
import { agentRunning } from '../projections/sessions-projection.js';
import { STATUS_COUNT_KEY, type SessionStats } from '../projections/stats.js';
import type { SlotView } from '../store/slot-store.js';

/** What the exposition is made of: the store's figures, and this process's appends when it made any. */
export interface MetricsInput {
  stats: SessionStats;
  /** The last `seq` of the log: how many events it holds. */
  lastSeq: number;
  /** Active sessions whose agent runs now. */
  agentsRunning: number;
  /** The store's concurrency slots, when read. */
  slots: SlotView | null;
  /** This process's appends, when it appends (a manager). */
  appends: AppendMetricsSnapshot | null;
}

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
function label(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** A number as the text format writes it. */
function num(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
}

/** One metric family: HELP, TYPE and its samples. */
function family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string, samples: Array<[labels: Record<string, string>, value: number, suffix?: string]>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value, suffix] of samples) {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
    lines.push(`${name}${suffix ?? ''}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${num(value)}`);
  }
  return lines.join('\n');
}

const STATUSES = Object.entries(STATUS_COUNT_KEY) as Array<[keyof typeof STATUS_COUNT_KEY, (typeof STATUS_COUNT_KEY)[keyof typeof STATUS_COUNT_KEY]]>;

/**
 * The Prometheus text exposition (format 0.0.4) of a store and of the process that reads it:
 * sessions by status and by agent, agents running, cost and turns by agent, events in the log,
 * the concurrency limit with the slots held and the queue, and, when the process appends, its
 * appends and their latency histogram. Names follow Prometheus's conventions (a `miyabi_`
 * prefix, base units, `_total` on counters). The figures are the same as `stats` gives.
 */
export function prometheusText(input: MetricsInput): string {
  const { stats, slots, appends } = input;
  const agents = Object.keys(stats.byAgent).sort();
  const families = [
    family('miyabi_sessions', 'gauge', 'Sessions in the store, by status.', STATUSES.map(([status, key]) => [{ status }, stats[key]])),
    family('miyabi_agent_sessions', 'gauge', 'Sessions in the store, by agent name and status.', agents.flatMap((agent) => STATUSES.map(([status, key]): [Record<string, string>, number] => [{ agent, status }, stats.byAgent[agent]![key]]))),
    family('miyabi_agents_running', 'gauge', 'Active sessions whose agent process runs now.', [[{}, input.agentsRunning]]),
    family('miyabi_agent_cost_usd_total', 'counter', "What the agents' runs cost, in US dollars, by agent name (each run counted once).", agents.map((agent) => [{ agent }, stats.spendByAgent[agent]?.costUsd ?? 0])),
    family('miyabi_agent_turns_total', 'counter', "The agents' conversation turns, by agent name.", agents.map((agent) => [{ agent }, stats.spendByAgent[agent]?.turns ?? 0])),
    family('miyabi_log_events_total', 'counter', 'Events in the log (its last seq).', [[{}, input.lastSeq]]),
  ];
  if (slots !== null) {
    const limit = slots.limit;
    families.push(
      family('miyabi_concurrency_limit', 'gauge', 'The store-wide concurrency limit (absent: none), and per agent name where set.', [
        ...(limit?.limit === undefined ? [] : [[{}, limit.limit] as [Record<string, string>, number]]),
        ...Object.entries(limit?.perAgent ?? {}).map(([agent, n]): [Record<string, string>, number] => [{ agent }, n]),
      ]),
      family('miyabi_concurrency_slots_held', 'gauge', 'Agents holding a concurrency slot.', [[{}, slots.running.length]]),
      family('miyabi_concurrency_queued', 'gauge', "Spawns waiting in the store's queue for a slot (not spawned yet).", [[{}, slots.queue.length]]),
      family('miyabi_pipelines_queued', 'gauge', "Pipelines with a step waiting in the store's queue.", [[{}, new Set(slots.queue.flatMap((e) => (e.pipeline === null ? [] : [e.pipeline]))).size]]),
    );
  }
  if (appends !== null) {
    families.push(
      family('miyabi_appends_total', 'counter', 'Durable appends this process made (one per command).', [[{}, appends.count]]),
      family('miyabi_append_duration_seconds', 'histogram', 'How long an append took, from the call to the acknowledgement.', [
        ...APPEND_BUCKETS_SECONDS.map((bound, i): [Record<string, string>, number, string] => [{ le: String(bound) }, appends.buckets[i]!, '_bucket']),
        [{ le: '+Inf' }, appends.count, '_bucket'],
        [{}, appends.sumSeconds, '_sum'],
        [{}, appends.count, '_count'],
      ]),
    );
  }
  return `${families.join('\n')}\n`;
}

/**
 * The Prometheus exposition of a manager's store and of its own appends (the library's way to
 * the figures `serve` shows at `/metrics`): serve the string at your own `/metrics`.
 *
 * @example
 * http.createServer(async (req, res) => res.end(await prometheusMetrics(manager))).listen(9464, '127.0.0.1');
 */
export async function prometheusMetrics(manager: SessionManager): Promise<string> {
  const stats = await manager.getStats();
  const active = await manager.listActiveSessions();
  return prometheusText({
    stats,
    lastSeq: manager.lastSeq,
    agentsRunning: active.filter(agentRunning).length,
    slots: await manager.concurrency().catch(() => null),
    appends: manager.appendMetrics.snapshot(),
  });
}
