import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditLog, auditStore, type AuditLogTuning, type AuditTuning } from '../../src/audit/audit-log.js';
import { retryIdOf } from '../../src/domain/retry-id.js';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { SessionEvent } from '../../src/index.js';
import { emptySessionsState, evolveSessions, spawnRefusal, spawnedSessionsOf } from '../../src/projections/sessions-projection.js';
import { machineEventOf, snapshotOf } from '../../src/manager/machine-bridge.js';
import { fileStoreToRead } from '../../src/query/read-store.js';
import { logText } from '../helpers/events.js';
import { tempDir } from '../helpers/fixtures.js';

/*
 * The audit keeps a byte of facts a session and asks the machine once per kind of session; these
 * tests hold it to the plain way of judging a log: fold whole sessions and ask the machine about
 * each event with the session's full snapshot. Generated logs mix allowed and refused moves over
 * a few sessions, their retries and their children, with event ids that repeat.
 */

const AT = '2026-01-01T00:00:00.000Z';
const ROOTS = ['10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000002', '30000000-0000-4000-8000-000000000003'];
const SESSIONS = [...ROOTS, ...ROOTS.map(retryIdOf), '40000000-0000-4000-8000-000000000004'];
const EVENT_IDS = Array.from({ length: 40 }, (_, i) => `e0000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
const HOST = { host: 'h', pid: 7, startTime: '1' };
const CONTEXT = { issueNumber: 1, currentPhase: 'CodeGeneration' as const, worktreePath: '/w', previousResults: [] };

type Move =
  | { kind: 'spawn'; session: string; parent: string | null; retry: boolean }
  | { kind: 'start' | 'finish' | 'stop' | 'complete' | 'fail'; session: string }
  | { kind: 'handoff'; session: string; child: string };

// Mostly the first session, so that long runs of one session's moves come up (a stop asked twice).
const session = fc.oneof({ weight: 3, arbitrary: fc.constant(ROOTS[0]!) }, { weight: 4, arbitrary: fc.constantFrom(...SESSIONS) });
const move: fc.Arbitrary<Move> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('spawn' as const), session, parent: fc.option(session, { nil: null }), retry: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constantFrom('start' as const, 'finish' as const, 'stop' as const, 'complete' as const, 'fail' as const), session }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('handoff' as const), session, child: session }) },
);
/** One session's life after its spawn: its agent's moves in every order, then perhaps its end. */
const oneSession = fc
  .tuple(fc.array(fc.constantFrom<Move['kind']>('start', 'stop', 'finish'), { maxLength: 6 }), fc.constantFrom<Move['kind'][]>([], ['complete'], ['fail']))
  .map(([agent, end]) => [{ kind: 'spawn', session: ROOTS[0]!, parent: null, retry: false } as Move, ...[...agent, ...end].map((kind) => ({ kind, session: ROOTS[0]! }) as Move)]);
/** Moves, each with an event id: mostly fresh, sometimes one used before. */
const log = fc
  .tuple(fc.oneof(oneSession, fc.constant([])), fc.array(move, { minLength: 1, maxLength: 30 }))
  .chain(([first, rest]) => fc.tuple(...[...first, ...rest].map((m) => fc.tuple(fc.constant(m), fc.nat({ max: 39 })))));

function eventOf([m, idIndex]: [Move, number], index: number): SessionEvent {
  const envelope = { seq: index + 1, id: EVENT_IDS[idIndex]!, sessionId: m.session, timestamp: AT, schemaVersion: EVENT_SCHEMA_VERSION } as const;
  switch (m.kind) {
    case 'spawn': {
      const retryOf = m.retry ? SESSIONS.find((s) => retryIdOf(s) === m.session) : undefined;
      const parentSession = retryOf ?? m.parent;
      return { ...envelope, type: 'SessionSpawned', data: { agentName: 'CodeGenAgent', purpose: 'p', context: CONTEXT, parentSession, ...(retryOf === undefined ? {} : { retryOf }) } };
    }
    case 'start':
      return { ...envelope, type: 'SessionAgentStarted', data: { process: HOST, supervisor: HOST, command: ['claude'], cwd: '/w', logFile: '/l', resumedFrom: null } };
    case 'finish':
      return { ...envelope, type: 'SessionAgentFinished', data: { result: { success: true, output: 'ok' } } };
    case 'stop':
      return { ...envelope, by: 'tester', type: 'SessionStopRequested', data: { reason: 'enough' } };
    case 'handoff':
      return { ...envelope, type: 'SessionHandedOff', data: { toAgent: 'ReviewAgent', childSession: m.child } };
    case 'complete':
      return { ...envelope, type: 'SessionCompleted', data: {} };
    case 'fail':
      return { ...envelope, type: 'SessionFailed', data: { error: 'boom' } };
  }
}

type Found = [kind: string, line: number, sessionId: string | undefined];

/** The plain audit: whole sessions folded by the projection, each move asked of the machine with the full snapshot. */
function plainAudit(events: SessionEvent[]): Found[] {
  const state = emptySessionsState();
  const ids = new Set<string>();
  const found: Found[] = [];
  const handoffs: Array<{ parent: string; child: string; line: number }> = [];
  events.forEach((event, index) => {
    const line = index + 1;
    if (ids.has(event.id)) found.push(['duplicate-id', line, event.sessionId]);
    ids.add(event.id);
    const current = state.sessions.get(event.sessionId);
    const refused =
      event.type === 'SessionSpawned'
        ? spawnRefusal(spawnedSessionsOf(state.sessions), event) !== null
        : current === undefined || !snapshotOf(current).can(machineEventOf(event)!);
    if (refused) return void found.push([event.type === 'SessionSpawned' ? 'link' : 'transition', line, event.sessionId]);
    evolveSessions(state, event);
    if (event.type === 'SessionHandedOff') handoffs.push({ parent: event.sessionId, child: event.data.childSession, line });
  });
  for (const { parent, child, line } of handoffs) if (state.sessions.get(child)?.parentSession !== parent) found.push(['link', line, parent]);
  // Findings at one line come in the audit's order of kinds.
  const order = ['line', 'sequence', 'duplicate-id', 'transition', 'link'];
  return found.sort((a, b) => a[1] - b[1] || order.indexOf(a[0]) - order.indexOf(b[0]));
}

/** The audit's findings on a log of `events`: by {@link auditStore} with a schema check mode, or by {@link auditLog} with decoding workers. */
async function audited(events: SessionEvent[], tuning: Required<AuditTuning> | Required<AuditLogTuning>, extraLine = ''): Promise<Found[]> {
  const { dir, cleanup } = await tempDir();
  try {
    await writeFile(join(dir, 'events.ndjson'), logText(events) + extraLine);
    const report = 'schemaCheck' in tuning ? await auditStore(await fileStoreToRead(dir), undefined, tuning) : await auditLog(dir, undefined, tuning);
    return report.findings.map((f) => [f.kind, f.line, f.sessionId]);
  } finally {
    await cleanup();
  }
}

describe('the audit judges as the plain fold does', () => {
  // A worker thread starts for each audit it validates: fewer runs of those.
  it.each([
    ['judged in this thread', { schemaCheck: 'thread' }, 300],
    ['validated by the worker while judged', { schemaCheck: 'worker' }, 15],
    ['decoded by worker threads, judged here', { decodeWorkers: 2 }, 15],
  ] as const)('for generated logs, %s', async (_, tuning, numRuns) => {
    await fc.assert(
      fc.asyncProperty(log, async (moves) => {
        const events = moves.map(eventOf);
        expect(await audited(events, tuning)).toEqual(plainAudit(events));
      }),
      { numRuns },
    );
  });

  it('an event its schema refuses (its checksum right) is one finding, and the rest is judged without it', async () => {
    const events = [
      eventOf([{ kind: 'spawn', session: ROOTS[0]!, parent: null, retry: false }, 0], 0),
      eventOf([{ kind: 'handoff', session: ROOTS[0]!, child: ROOTS[1]! }, 1], 1),
      // Spawned as the child, but with no agent name: not a valid event, so the child never is.
      { ...eventOf([{ kind: 'spawn', session: ROOTS[1]!, parent: ROOTS[0]!, retry: false }, 2], 2), data: { agentName: '', purpose: 'p', context: CONTEXT, parentSession: ROOTS[0]! } } as unknown as SessionEvent,
      eventOf([{ kind: 'complete', session: ROOTS[1]! }, 3], 3),
    ];
    const expected: Found[] = [['link', 2, ROOTS[0]], ['line', 3, undefined], ['transition', 4, ROOTS[1]]];
    expect(await audited(events, { schemaCheck: 'thread' })).toEqual(expected);
    expect(await audited(events, { schemaCheck: 'worker' })).toEqual(expected);
    expect(await audited(events, { decodeWorkers: 2 })).toEqual(expected);
  });
});

