import { limitInWords } from '../domain/concurrency-limit.js';
import type { SlotEntry } from '../domain/slot-table.js';
import { esc } from '../report/html.js';
import { queuedOfPipeline, type SlotView } from '../store/slot-store.js';

/** How long ago, in words a glance takes in. */
function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

function entryRow(entry: SlotEntry, first: string, now: number): string {
  const pipeline = entry.pipeline === null ? '—' : `<a href="/pipeline/${esc(entry.pipeline)}">${esc(entry.pipeline.slice(0, 8))}</a>`;
  return `<tr><td>${first}</td><td>${esc(entry.agent)}</td><td><code>${esc(entry.holder)}</code></td><td>${pipeline}</td><td>${ago(now - entry.since)}</td></tr>`;
}

/**
 * The store's concurrency limit on the overview: the limit every manager obeys, the agents
 * holding a slot (with their fencing token) and the queue, first come first served. Nothing
 * when the store has no limit and nobody holds or waits.
 */
export function concurrencySection(view: SlotView | null): string {
  if (view === null || (view.limit === null && view.running.length === 0 && view.queue.length === 0)) return '';
  const limit = esc(limitInWords(view.limit));
  const head = '<tr><th>%</th><th>agent</th><th>session</th><th>pipeline</th><th>since</th></tr>';
  const table = (entries: readonly SlotEntry[], first: (e: SlotEntry, i: number) => string, what: string) =>
    `<table class="slots"><thead>${head.replace('%', what)}</thead><tbody>${entries.map((e, i) => entryRow(e, first(e, i), view.now)).join('')}</tbody></table>`;
  return `<h2 id="concurrency">Concurrency</h2>
<p>Limit: <strong>${limit}</strong> · ${view.running.length} running · ${view.queue.length} waiting for a slot</p>
${view.running.length === 0 ? '' : table(view.running, (e) => String(e.token), 'token')}
${view.queue.length === 0 ? '' : `<h3>Waiting, first come first served</h3>${table(view.queue, (_, i) => String(i + 1), 'place')}`}`;
}

/** A pipeline page's line for each of its steps waiting in the store's queue, with its place. */
export function queuedStepsSection(view: SlotView | null, root: string): string {
  if (view === null) return '';
  const lines = queuedOfPipeline(view, root).map(({ entry, place }) => `<li>${esc(entry.agent)} waits for a concurrency slot: place ${place} of ${view.queue.length}, for ${ago(view.now - entry.since)}, as session <code>${esc(entry.holder)}</code></li>`);
  return lines.length === 0 ? '' : `<section class="queued" id="queued"><h2>Waiting for a slot</h2><ul>${lines.join('')}</ul></section>`;
}
