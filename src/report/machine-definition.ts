import type { AnyStateMachine } from 'xstate';

/** A transition as a machine's JSON definition states it. */
export interface TransitionJson {
  target?: string[];
  guard?: string | { type?: string };
  eventType?: string;
}

/** A state node as a machine's JSON definition states it. */
export interface StateJson {
  key: string;
  type?: string;
  on?: Record<string, TransitionJson[]>;
  states?: Record<string, StateJson>;
  initial?: { target?: string[] };
}

/**
 * A machine's definition as plain JSON: what `machines export` writes and what the pictures are
 * drawn from. (`toJSON()` still holds state-node objects in targets; the round trip resolves them.)
 */
export function definitionOf(machine: AnyStateMachine): StateJson {
  return JSON.parse(JSON.stringify(machine.toJSON())) as StateJson;
}

/** The key of a transition target such as `#session.handedOff`. */
export function targetKey(target: string): string {
  return target.split('.').at(-1)!.replace(/^#/, '');
}

/** The key of the machine's initial state. */
export function initialKey(definition: StateJson): string | undefined {
  const target = definition.initial?.target?.[0];
  return target === undefined ? Object.keys(definition.states ?? {})[0] : targetKey(target);
}

/** A Mermaid state diagram of a machine: its top-level states, transitions (with guards) and finals. */
export function machineMermaid(machine: AnyStateMachine): string {
  const definition = definitionOf(machine);
  const lines = ['stateDiagram-v2'];
  const initial = initialKey(definition);
  if (initial !== undefined) lines.push(`  [*] --> ${initial}`);
  for (const [key, state] of Object.entries(definition.states ?? {})) {
    for (const [event, transitions] of Object.entries(state.on ?? {})) {
      for (const t of transitions) {
        const guard = typeof t.guard === 'string' ? t.guard : t.guard?.type;
        const label = guard === undefined ? event : `${event} [${guard}]`;
        const targets = (t.target ?? []).map(targetKey);
        for (const target of targets.length > 0 ? targets : [key]) lines.push(`  ${key} --> ${target}: ${label}`);
      }
    }
    if (state.type === 'final') lines.push(`  ${key} --> [*]`);
  }
  return `${lines.join('\n')}\n`;
}
