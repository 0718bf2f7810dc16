import type { TimeSeries } from '../projections/time-series.js';
import { esc, STATUS_FILL, STATUS_STROKE } from './html.js';

const BAR = 22;
const GAP = 6;
const HEIGHT = 140;
const LEFT = 48;
const TOP = 16;
/** Colours for agents, in the order they are first met. */
const AGENT_COLOURS = ['#0969da', '#8250df', '#1a7f37', '#bf3989', '#9a6700', '#cf222e', '#57606a', '#0550ae'];

const label = (start: string, bucket: TimeSeries['bucket']) => (bucket === 'day' ? start.slice(5, 10) : `${start.slice(11, 13)}:00`);

function frame(series: TimeSeries, id: string, title: string, max: number, unit: (n: number) => string, bars: string, legend: string, legendWidth: number): string {
  const width = Math.max(LEFT + series.buckets.length * (BAR + GAP) + 10, LEFT + legendWidth);
  const labels = series.buckets
    .map((b, i) => (i % Math.ceil(series.buckets.length / 12) === 0 ? `<text x="${LEFT + i * (BAR + GAP) + BAR / 2}" y="${TOP + HEIGHT + 14}" text-anchor="middle" class="muted">${label(b.start, series.bucket)}</text>` : ''))
    .join('');
  return (
    `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${TOP + HEIGHT + 40}" role="img" aria-label="${esc(title)}">` +
    `<text x="0" y="${TOP + 4}" class="muted">${esc(unit(max))}</text><text x="0" y="${TOP + HEIGHT}" class="muted">0</text>` +
    `<line x1="${LEFT - 4}" y1="${TOP + HEIGHT}" x2="${width}" y2="${TOP + HEIGHT}" stroke="#d0d7de"/>${bars}${labels}${legend}</svg>`
  );
}

/** Sessions that ended in each bucket, stacked by how (completed, handed off, failed), with a tick at how many were spawned. */
export function sessionsOverTimeSvg(series: TimeSeries): string {
  const max = Math.max(1, ...series.buckets.map((b) => Math.max(b.spawned, b.completed + b.handedOff + b.failed)));
  const scale = (n: number) => (n / max) * HEIGHT;
  const bars = series.buckets.map((b, i) => {
    const x = LEFT + i * (BAR + GAP);
    let y = TOP + HEIGHT;
    const parts = (['Completed', 'HandedOff', 'Failed'] as const).map((status) => {
      const n = { Completed: b.completed, HandedOff: b.handedOff, Failed: b.failed }[status];
      if (n === 0) return '';
      const h = scale(n);
      y -= h;
      return `<rect x="${x}" y="${y}" width="${BAR}" height="${h}" fill="${STATUS_FILL[status]}" stroke="${STATUS_STROKE[status]}"/>`;
    });
    const tick = b.spawned === 0 ? '' : `<line x1="${x - 2}" x2="${x + BAR + 2}" y1="${TOP + HEIGHT - scale(b.spawned)}" y2="${TOP + HEIGHT - scale(b.spawned)}" stroke="#1f6feb" stroke-width="2"/>`;
    const tip = `${b.start}: ${b.spawned} spawned; ended ${b.completed} completed, ${b.handedOff} handed off, ${b.failed} failed`;
    return `<g class="bar" data-start="${b.start}" data-spawned="${b.spawned}" data-failed="${b.failed}"><title>${esc(tip)}</title>${parts.join('')}${tick}</g>`;
  });
  const legend = `<text x="${LEFT}" y="${TOP + HEIGHT + 32}" class="muted">bars: sessions ended (green completed, purple handed off, red failed) · blue tick: sessions spawned</text>`;
  return frame(series, 'sessions-over-time', 'Sessions spawned and ended over time', max, (n) => String(n), bars.join(''), legend, 560);
}

/** What the agents cost in each bucket, stacked by agent. */
export function costOverTimeSvg(series: TimeSeries): string {
  const agents = [...new Set(series.buckets.flatMap((b) => Object.keys(b.byAgent)))].sort();
  const colour = (agent: string) => AGENT_COLOURS[agents.indexOf(agent) % AGENT_COLOURS.length]!;
  const totals = series.buckets.map((b) => Object.values(b.byAgent).reduce((sum, a) => sum + a.costNanos, 0));
  const max = Math.max(1, ...totals);
  const bars = series.buckets.map((b, i) => {
    const x = LEFT + i * (BAR + GAP);
    let y = TOP + HEIGHT;
    const parts = agents.map((agent) => {
      const nanos = b.byAgent[agent]?.costNanos ?? 0;
      if (nanos === 0) return '';
      const h = (nanos / max) * HEIGHT;
      y -= h;
      return `<rect x="${x}" y="${y}" width="${BAR}" height="${h}" fill="${colour(agent)}"/>`;
    });
    const tip = `${b.start}: $${(totals[i]! / 1e9).toFixed(4)}${agents.filter((a) => b.byAgent[a] !== undefined).map((a) => `; ${a} $${(b.byAgent[a]!.costNanos / 1e9).toFixed(4)}, ${b.byAgent[a]!.turns} turns`).join('')}`;
    return `<g class="bar" data-start="${b.start}" data-cost-nanos="${totals[i]}"><title>${esc(tip)}</title>${parts.join('')}</g>`;
  });
  const legend = agents
    .map((agent, i) => `<rect x="${LEFT + i * 130}" y="${TOP + HEIGHT + 24}" width="10" height="10" fill="${colour(agent)}"/><text x="${LEFT + i * 130 + 14}" y="${TOP + HEIGHT + 33}">${esc(agent)}</text>`)
    .join('');
  return frame(series, 'cost-over-time', 'Cost of the agents over time, by agent', max, (n) => `$${(n / 1e9).toFixed(2)}`, bars.join(''), legend, agents.length * 130);
}
