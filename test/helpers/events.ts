import { v4 as uuidv4 } from 'uuid';
import type { SessionEvent } from '../../src/index.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';

const AT = '2026-01-01T00:00:00.000Z';

/** `count` valid log events: a chain of spawn/handoff pairs after one spawn, seqs from 1. */
export function sampleEvents(count: number): SessionEvent[] {
  const events: SessionEvent[] = [];
  let current = uuidv4();
  const base = { timestamp: AT, schemaVersion: EVENT_SCHEMA_VERSION } as const;
  events.push({
    seq: 1, id: uuidv4(), type: 'SessionSpawned', sessionId: current, ...base,
    data: { agentName: 'CodeGenAgent', purpose: 'p', context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: '/w', previousResults: [] }, parentSession: null },
  });
  while (events.length < count) {
    const child = uuidv4();
    const seq = events.length + 1;
    events.push({ seq, id: uuidv4(), type: 'SessionHandedOff', sessionId: current, ...base, txSize: 2, data: { toAgent: 'ReviewAgent', childSession: child } });
    events.push({
      seq: seq + 1, id: uuidv4(), type: 'SessionSpawned', sessionId: child, ...base,
      data: { agentName: 'ReviewAgent', purpose: `Handoff from session ${current}`, context: { issueNumber: 1, currentPhase: 'Review', worktreePath: '/w', previousResults: [] }, parentSession: current },
    });
    current = child;
  }
  return events.slice(0, count);
}

/** The log text of these events. */
export function logText(events: SessionEvent[]): string {
  return events.map(encodeEventLine).join('');
}
