import { limitInWords, parseConcurrencyLimit, type ConcurrencyLimit } from '../../domain/concurrency-limit.js';
import type { SlotEntry } from '../../domain/slot-table.js';
import type { SlotView } from '../../store/slot-store.js';
import { UsageError, type Command, type CommandContext } from '../command.js';
import { print, printJson, table } from '../format.js';
import { slotTableOf } from '../open-store.js';
import { mkdir } from 'node:fs/promises';

/** `NAME=N` of `--agent`, as a per-agent limit. */
function perAgentOf(values: readonly string[]): Record<string, number> {
  const perAgent: Record<string, number> = {};
  for (const value of values) {
    const match = /^([^=]+)=(\d+)$/.exec(value);
    if (match === null) throw new UsageError(`--agent takes NAME=N (a whole number), got "${value}"`);
    perAgent[match[1]!] = Number(match[2]);
  }
  return perAgent;
}

/** The limit the arguments ask for: a number and/or `--agent NAME=N`, or `off` (null). */
function requestedLimit(context: CommandContext): ConcurrencyLimit | null | undefined {
  const [first] = context.positionals;
  const agents = context.values['agent'];
  const perAgent = perAgentOf(Array.isArray(agents) ? (agents as string[]) : typeof agents === 'string' ? [agents] : []);
  if (first === 'off') {
    if (Object.keys(perAgent).length > 0) throw new UsageError('`limit off` takes no --agent');
    return null;
  }
  if (first === undefined && Object.keys(perAgent).length === 0) return undefined;
  if (first !== undefined && !/^-?\d+(\.\d+)?$/.test(first)) throw new UsageError(`the limit must be a whole number or "off", got "${first}"`);
  // The library's own check names what is wrong (0, a fraction, a bad agent name); nothing is written then.
  return parseConcurrencyLimit({ ...(first === undefined ? {} : { limit: Number(first) }), ...(Object.keys(perAgent).length === 0 ? {} : { perAgent }) });
}

/** How a limit reads. */
function limitText(limit: ConcurrencyLimit | null): string {
  return limit === null ? 'no concurrency limit: every agent runs at once' : `concurrency limit: ${limitInWords(limit)}`;
}

function slotRows(entries: readonly SlotEntry[], view: SlotView): string[][] {
  return entries.map((e, i) => [e.token === null ? String(i + 1) : String(e.token), e.agent, e.holder, e.pipeline ?? '—', `${Math.round((view.now - e.since) / 1000)} s`, `${Math.max(0, Math.round((e.leaseUntil - view.now) / 1000))} s`]);
}

/** `limit`: shows, sets or removes the store's concurrency limit, shared by every manager and host on the store. */
export const limitCommand: Command = {
  name: 'limit',
  summary: 'show the store-wide concurrency limit with the agents holding a slot and the queue; `limit N [--agent NAME=N]…` sets it, `limit off` removes it',
  usage: 'limit [N | off] [--agent NAME=N]…',
  example: 'concurrency limit: 2 agents at once\nrunning (2):\nTOKEN  AGENT         SESSION                               PIPELINE  SINCE  LEASE LEFT\n7      CodeGenAgent  0b7c…',
  options: { agent: { type: 'string', multiple: true } },
  async run(context) {
    const requested = requestedLimit(context);
    const { slots, close } = slotTableOf(context);
    try {
      if (requested !== undefined) {
        // A limit may be set before any manager opened the store: its directory is made, as an open would.
        if (context.values['store'] === undefined) await mkdir(context.dir, { recursive: true });
        await slots.setLimit(requested);
      }
      const view = await slots.view();
      if (context.json) {
        printJson(view);
        return 0;
      }
      print(limitText(view.limit));
      const head = ['AGENT', 'SESSION', 'PIPELINE', 'SINCE', 'LEASE LEFT'];
      if (view.running.length > 0) print(`running (${view.running.length}):\n${table(['TOKEN', ...head], slotRows(view.running, view))}`);
      if (view.queue.length > 0) print(`queued (${view.queue.length}), first come first served:\n${table(['PLACE', ...head], slotRows(view.queue, view))}`);
      return 0;
    } finally {
      await close();
    }
  },
};
