import type { Session } from '../domain/session.js';
import { esc, STATUS_FILL, STATUS_STROKE } from './html.js';

/**
 * A timeline of sessions: one row each, a bar from spawn to end (to `now` while Active), so who
 * ran when, for how long and how it ended can be read at a glance. A session imported from the
 * original ended at a time nobody recorded: a mark at its start, "end not recorded".
 */
export function timelineSvg(sessions: readonly Session[], now: number): string {
  if (sessions.length === 0) return '<p class="muted">No sessions.</p>';
  const endOf = (s: Session) => (s.endedAt !== undefined ? Date.parse(s.endedAt) : s.status === 'Active' ? now : Date.parse(s.createdAt));
  // A loop, not a spread into Math.min: any number of sessions.
  let start = Infinity;
  let end = -Infinity;
  for (const s of sessions) {
    start = Math.min(start, Date.parse(s.createdAt));
    end = Math.max(end, endOf(s));
  }
  end = Math.max(end, start + 1);
  const label = 200;
  const span = 640;
  const rowH = 24;
  const x = (t: number) => label + ((t - start) / (end - start)) * span;
  const rows = sessions.map((s, i) => {
    const from = Date.parse(s.createdAt);
    const to = endOf(s);
    const lasted = s.endedAt === undefined && s.status !== 'Active' ? 'end not recorded' : `${to - from} ms`;
    const y = 24 + i * rowH;
    const width = Math.max(2, x(to) - x(from));
    return (
      `<g class="bar" data-session="${esc(s.id)}" data-status="${s.status}"><title>${esc(`${s.agentName} ${s.status} ${lasted}`)}</title>` +
      `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${esc(s.agentName)} ${esc(s.id.slice(0, 8))}</text>` +
      `<rect x="${x(from)}" y="${y + 3}" width="${width}" height="${rowH - 8}" rx="3" fill="${STATUS_FILL[s.status]}" stroke="${STATUS_STROKE[s.status]}"/>` +
      `<text x="${x(from) + width + 6}" y="${y + 15}" class="muted">${lasted}</text></g>`
    );
  });
  const height = 30 + sessions.length * rowH;
  return (
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${label + span + 90}" height="${height}">` +
    `<text x="${label}" y="14" class="muted">${esc(new Date(start).toISOString())}</text>` +
    `<text x="${label + span}" y="14" text-anchor="end" class="muted">+${end - start} ms</text>${rows.join('')}</svg>`
  );
}
