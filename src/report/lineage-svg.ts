import type { Session } from '../domain/session.js';
import { childrenOf } from '../projections/lineage.js';
import { esc, STATUS_FILL, STATUS_STROKE } from './html.js';

const W = 190;
const H = 62;
const GAP_X = 50;
const GAP_Y = 18;

/**
 * The lineage of every pipeline as an SVG graph: roots on the left, each handoff one step to the
 * right (a retry too, on a dashed edge), one row per branch. Each node carries `data-session`
 * and `data-status`.
 */
export function lineageSvg(sessions: ReadonlyMap<string, Session>): string {
  const place = new Map<string, { x: number; y: number }>();
  let row = 0;
  const layout = (s: Session, depth: number) => {
    place.set(s.id, { x: 10 + depth * (W + GAP_X), y: 10 + row * (H + GAP_Y) });
    const children = childrenOf(sessions, s);
    if (children.length === 0) row += 1;
    children.forEach((c) => layout(c, depth + 1));
  };
  for (const s of sessions.values()) if (s.parentSession === null || !sessions.has(s.parentSession)) layout(s, 0);
  let width = 300;
  for (const p of place.values()) width = Math.max(width, p.x + W + 10);
  const height = Math.max(60, row * (H + GAP_Y) + 10);
  const edges: string[] = [];
  const nodes: string[] = [];
  for (const s of sessions.values()) {
    const p = place.get(s.id);
    if (p === undefined) continue;
    const parent = s.parentSession === null ? undefined : place.get(s.parentSession);
    if (parent !== undefined) {
      // A retry's edge is dashed: the same step run again, not a handoff to the next one.
      const kind = s.retryOf === undefined ? 'edge' : 'edge retry';
      const dash = s.retryOf === undefined ? '' : ' stroke-dasharray="5 4"';
      edges.push(`<path class="${kind}" d="M${parent.x + W} ${parent.y + H / 2} C${parent.x + W + GAP_X / 2} ${parent.y + H / 2}, ${p.x - GAP_X / 2} ${p.y + H / 2}, ${p.x} ${p.y + H / 2}" fill="none" stroke="#8c959f"${dash} marker-end="url(#arrow)"/>`);
    }
    nodes.push(
      `<g class="node" data-session="${esc(s.id)}" data-status="${s.status}" data-agent="${esc(s.agentName)}" transform="translate(${p.x} ${p.y})">` +
        `<title>${esc(`${s.agentName} · ${s.status} · ${s.id}`)}</title>` +
        `<rect width="${W}" height="${H}" rx="8" fill="${STATUS_FILL[s.status]}" stroke="${STATUS_STROKE[s.status]}" stroke-width="2"/>` +
        `<text x="10" y="20" font-weight="600">${esc(s.agentName)}</text>` +
        `<text x="10" y="38" class="status">${s.status}${s.retryOf === undefined ? '' : ' · retry'} · ${esc(s.context.currentPhase)}</text>` +
        `<text x="${W - 10}" y="20" text-anchor="end" class="muted">${esc(s.id.slice(0, 8))}</text>` +
        // The issue, small under the status line, where a reader looks for which work this was.
        `${s.context.issueNumber === null ? '' : `<text x="10" y="${H - 8}" class="muted issue" font-size="10">#${s.context.issueNumber}</text>`}` +
        // Imported from the original's sessions.json: said small, under the status line, so it never crowds it.
        `${s.imported === true ? `<text x="${W - 10}" y="${H - 8}" text-anchor="end" class="muted imported" font-size="10">imported</text>` : ''}</g>`,
    );
  }
  return (
    `<svg id="lineage" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0L10 5L0 10z" fill="#8c959f"/></marker></defs>` +
    `${edges.join('')}${nodes.join('')}</svg>`
  );
}
