import type { AnyStateMachine } from 'xstate';
import { esc } from './html.js';
import { definitionOf, initialKey, targetKey } from './machine-definition.js';


/**
 * A state machine drawn from its own definition: the initial state on the left, the states it
 * leads to stacked on the right, an arrow per transition labelled with its event; events that
 * stay in a state are listed under it, one a line. `current`, when given, is the state picked out (a
 * session's, on the dashboard).
 */
export function machineSvg(machine: AnyStateMachine, current?: string): string {
  const definition = definitionOf(machine);
  const states = Object.entries(definition.states ?? {});
  const initial = initialKey(definition) ?? '';
  const others = states.filter(([k]) => k !== initial);
  const box = { w: 150, h: 40 };
  const pos = new Map<string, { x: number; y: number }>([[initial, { x: 20, y: 20 + ((others.length - 1) * 70) / 2 }]]);
  others.forEach(([k], i) => pos.set(k, { x: 360, y: 20 + i * 70 }));
  const parts: string[] = [];
  let bottom = 0;
  for (const [key, state] of states) {
    const from = pos.get(key)!;
    const selfEvents: string[] = [];
    for (const [event, transitions] of Object.entries(state.on ?? {})) {
      for (const t of transitions) {
        const first = t.target?.[0];
        const target = first === undefined ? undefined : targetKey(first);
        const to = target === undefined ? undefined : pos.get(target);
        if (to === undefined || target === key) {
          selfEvents.push(event);
          continue;
        }
        const [x1, y1, x2, y2] = [from.x + box.w, from.y + box.h / 2, to.x, to.y + box.h / 2];
        parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#57606a" marker-end="url(#m-arrow)"/>`);
        parts.push(`<text x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 4}" text-anchor="middle" class="event">${esc(event)}</text>`);
      }
    }
    const final = state.type === 'final';
    const here = key === current;
    parts.push(
      `<g class="state${here ? ' current' : ''}" data-state="${esc(key)}"><rect x="${from.x}" y="${from.y}" width="${box.w}" height="${box.h}" rx="10" fill="${here ? '#fff8c5' : '#f6f8fa'}" stroke="${here ? '#9a6700' : '#57606a'}" stroke-width="${here ? 3 : final ? 3 : 1.5}"/>` +
        `<text x="${from.x + box.w / 2}" y="${from.y + 25}" text-anchor="middle" font-weight="600">${esc(key)}${final ? ' (final)' : ''}</text></g>`,
    );
    // One per line, under the state: a row of them would run into the labels of the arrows.
    selfEvents.forEach((event, i) => parts.push(`<text x="${from.x}" y="${from.y + box.h + 16 + i * 14}" class="event">↻ ${esc(event)}</text>`));
    bottom = Math.max(bottom, from.y + box.h + 16 + selfEvents.length * 14);
  }
  const height = Math.max(120, 40 + others.length * 70, bottom);
  return (
    `<svg class="machine" data-machine="${esc(machine.id)}" xmlns="http://www.w3.org/2000/svg" width="540" height="${height}">` +
    `<defs><marker id="m-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0L10 5L0 10z" fill="#57606a"/></marker></defs>${parts.join('')}</svg>`
  );
}
