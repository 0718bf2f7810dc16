import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRecord, fromRecord, isSessionRecord, toRecord } from '../../src/checkpoint/session-record.js';
import {
  FILE_HEADER,
  TRAILER_BYTES,
  parseCheckpoint,
  parseSessionsFile,
  parseTrailer,
  renderRecord,
  renderSessionsFile,
  renderSessionsFileParts,
  renderTrailer,
  sameRendering,
  sameSessions,
  statusLetter,
  streamSessionsFile,
} from '../../src/checkpoint/sessions-file.js';
import { emptySessionsState, type SessionsState } from '../../src/projections/sessions-projection.js';
import { computeStats } from '../../src/projections/stats.js';
import type { Session } from '../../src/domain/session.js';
import { SessionManager } from '../../src/index.js';
import { loadSessionsFile } from '../../src/checkpoint/load-sessions-file.js';
import type { SessionMap } from '../../src/checkpoint/session-map.js';
import { contextFor, numberedId, tempDir } from '../helpers/fixtures.js';

/*
 * The checkpoint format byte by byte: a record's exact text and key order, what a record may
 * leave out, which values are records at all; the trailer and checkpoint object, and every way a
 * file is refused (CORRUPT_CHECKPOINT, with why). The round-trip property tests cover generated
 * sessions; these pin each field and each refusal.
 */

const ID = (n: number) => numberedId(n);
const CONTEXT = { issueNumber: 7, currentPhase: 'Review' as const, worktreePath: '/w', previousResults: [{ success: true, output: 'code', agentName: 'CodeGenAgent', sessionId: ID(9), numTurns: 2 }] };

/** A session with every optional field set. */
const FULL: Session = {
  id: ID(1),
  agentName: 'ReviewAgent',
  purpose: 'review it',
  context: CONTEXT,
  createdAt: '2026-11-30T06:00:00.000Z',
  status: 'Failed',
  parentSession: ID(9),
  childSessions: [ID(2)],
  revision: 6,
  retryOf: ID(9),
  pipeline: { steps: [{ agentName: 'ReviewAgent', phase: 'Review', budgetUsd: 1, maxTurns: 3, approval: true }], maxRetries: 1, budgetUsd: 5, approvalTimeoutMs: 60000, webhooks: ['https://example.test/hook'] },
  imported: true,
  startedBy: 'alice',
  handoffTo: 'TestAgent',
  endedAt: '2026-11-30T06:01:00.000Z',
  result: { success: false, output: 'partial', agentName: 'ReviewAgent', sessionId: ID(1), numTurns: 3, durationMs: 900, totalCostUsd: 0.5, runCostUsd: 0.25, usage: { input_tokens: 10, output_tokens: 5 } },
  error: 'capped',
  interrupted: true,
  capped: 'turns',
  retryAfter: '2026-11-30T07:00:00.000Z',
  agent: {
    process: { host: 'h', pid: 7, startTime: 'boot' },
    supervisor: { host: 'h', pid: 6, startTime: null },
    command: ['claude', '-p'],
    cwd: '/w',
    logFile: '/w/l.log',
    resumedFrom: ID(8),
    startedAt: '2026-11-30T06:00:01.000Z',
    finishedAt: '2026-11-30T06:00:59.000Z',
    transcript: { bytes: 3, sha256: 'b'.repeat(64) },
    stopRequest: { by: 'ops', at: '2026-11-30T06:00:30.000Z', reason: 'slow' },
  },
  endedBy: 'ops',
} as Session;

const MINIMAL: Session = { id: ID(3), agentName: 'A', purpose: 'p', context: { issueNumber: null, currentPhase: 'Test', worktreePath: null, previousResults: [] }, createdAt: '2026-11-30T06:00:00.000Z', status: 'Active', parentSession: null, childSessions: [], revision: 1 };

describe('a session record', () => {
  it('every field, in the file’s key order, and back to the same session', () => {
    expect(renderRecord(FULL)).toBe(
      JSON.stringify({
        id: ID(1), agent_name: 'ReviewAgent', purpose: 'review it',
        context: { issue_number: 7, current_phase: 'Review', worktree_path: '/w', previous_results: [{ success: true, output: 'code', agent_name: 'CodeGenAgent', session_id: ID(9), num_turns: 2 }] },
        created_at: FULL.createdAt, status: 'Failed', parent_session: ID(9), child_sessions: [ID(2)], handoff_to: 'TestAgent', error_message: 'capped',
        ended_at: FULL.endedAt,
        result: { success: false, output: 'partial', agent_name: 'ReviewAgent', session_id: ID(1), num_turns: 3, duration_ms: 900, total_cost_usd: 0.5, run_cost_usd: 0.25, usage: { input_tokens: 10, output_tokens: 5 } },
        agent: {
          process: { host: 'h', pid: 7, start_time: 'boot' }, supervisor: { host: 'h', pid: 6, start_time: null }, command: ['claude', '-p'], cwd: '/w', log_file: '/w/l.log', resumed_from: ID(8),
          started_at: FULL.agent!.startedAt, finished_at: FULL.agent!.finishedAt, transcript: FULL.agent!.transcript, stop_request: FULL.agent!.stopRequest,
        },
        interrupted: true, capped: 'turns', retry_after: FULL.retryAfter, retry_of: ID(9),
        pipeline: { steps: [{ agent_name: 'ReviewAgent', phase: 'Review', budget_usd: 1, max_turns: 3, approval: true }], max_retries: 1, budget_usd: 5, approval_timeout_ms: 60000, webhooks: ['https://example.test/hook'] },
        imported: true, started_by: 'alice', ended_by: 'ops', revision: 6,
      }),
    );
    expect(decodeRecord(Buffer.from(renderRecord(FULL)), FULL.id, 'f')).toStrictEqual(FULL);
  });

  it('a session with no optional field: nulls where the original had keys, nothing else, and back with none', () => {
    expect(renderRecord(MINIMAL)).toBe(
      JSON.stringify({
        id: ID(3), agent_name: 'A', purpose: 'p', context: { issue_number: null, current_phase: 'Test', worktree_path: null, previous_results: [] },
        created_at: MINIMAL.createdAt, status: 'Active', parent_session: null, child_sessions: [], handoff_to: null, error_message: null, revision: 1,
      }),
    );
    expect(decodeRecord(Buffer.from(renderRecord(MINIMAL)), MINIMAL.id, 'f')).toStrictEqual(MINIMAL);
    // A minimal pipeline step and spec.
    const piped = { ...MINIMAL, pipeline: { steps: [{ agentName: 'A', phase: 'Test' as const }] } };
    expect(toRecord(piped).pipeline).toStrictEqual({ steps: [{ agent_name: 'A', phase: 'Test' }] });
    expect(decodeRecord(Buffer.from(renderRecord(piped)), piped.id, 'f')).toStrictEqual(piped);
  });

  it('toRecord and fromRecord write no key for what a session does not have (not even one holding undefined)', () => {
    const withResult = { ...MINIMAL, result: { success: true, output: 'ok' } };
    expect(toRecord(withResult)).toStrictEqual({ ...JSON.parse(renderRecord(MINIMAL)), result: { success: true, output: 'ok' }, revision: 1 });
    const agent = { process: { host: 'h', pid: 1, startTime: null }, supervisor: { host: 'h', pid: 2, startTime: null }, command: [], cwd: '/', logFile: '/l', resumedFrom: null, startedAt: MINIMAL.createdAt };
    const running = { ...MINIMAL, agent };
    expect(toRecord(running).agent).toStrictEqual({ process: { host: 'h', pid: 1, start_time: null }, supervisor: { host: 'h', pid: 2, start_time: null }, command: [], cwd: '/', log_file: '/l', resumed_from: null, started_at: MINIMAL.createdAt });
    expect(decodeRecord(Buffer.from(renderRecord(running)), running.id, 'f')).toStrictEqual(running);
    expect(toRecord(MINIMAL)).toStrictEqual(JSON.parse(renderRecord(MINIMAL)));
    expect(toRecord({ ...MINIMAL, status: 'Completed', endedAt: MINIMAL.createdAt })).toStrictEqual({ ...JSON.parse(renderRecord(MINIMAL)), status: 'Completed', ended_at: MINIMAL.createdAt });
  });

  it('an earlier version’s record: `error` for the failure, and its missing keys read as absent', () => {
    const older = { id: ID(4), agent_name: 'A', purpose: 'p', context: { current_phase: 'Test', previous_results: [] }, created_at: MINIMAL.createdAt, status: 'Failed', parent_session: null, child_sessions: [], error: 'old failure', revision: 2 };
    expect(fromRecord(older as never)).toStrictEqual({ ...MINIMAL, id: ID(4), status: 'Failed', revision: 2, error: 'old failure' });
    // error_message wins over error.
    expect(fromRecord({ ...older, error_message: 'new' } as never).error).toBe('new');
  });

  it.each([
    ['null', null],
    ['a string', 'x'],
    ['no id', { ...toRecord(MINIMAL), id: 5 }],
    ['no agent name', { ...toRecord(MINIMAL), agent_name: null }],
    ['no context', { ...toRecord(MINIMAL), context: null }],
    ['a context without results', { ...toRecord(MINIMAL), context: { current_phase: 'Test' } }],
    ['an unknown status', { ...toRecord(MINIMAL), status: 'Paused' }],
    ['no children', { ...toRecord(MINIMAL), child_sessions: 'none' }],
    ['no revision', { ...toRecord(MINIMAL), revision: '1' }],
  ])('is not a record: %s', (_what, value) => {
    expect(isSessionRecord(value)).toBe(false);
    expect(() => decodeRecord(Buffer.from(JSON.stringify(value)), ID(3), 'f.json')).toThrow(expect.objectContaining({ code: 'CORRUPT_CHECKPOINT', message: 'f.json holds a malformed session record' }));
  });

  it('every status is a record’s; bytes that are not JSON, or another session’s record, are refused', () => {
    for (const status of ['Active', 'HandedOff', 'Completed', 'Failed'] as const) expect(isSessionRecord(toRecord({ ...MINIMAL, status }))).toBe(true);
    expect(() => decodeRecord(Buffer.from('{"id":'), ID(3), 'f.json')).toThrow(expect.objectContaining({ code: 'CORRUPT_CHECKPOINT', message: 'f.json holds a record that is not JSON', cause: expect.any(SyntaxError) }));
    expect(() => decodeRecord(Buffer.from(renderRecord(MINIMAL)), ID(4), 'f.json')).toThrow(expect.objectContaining({ message: 'f.json holds a malformed session record' }));
    expect([statusLetter(MINIMAL), statusLetter(FULL), statusLetter({ ...MINIMAL, status: 'HandedOff' }), statusLetter({ ...MINIMAL, status: 'Completed' })]).toEqual(['A', 'F', 'H', 'C']);
  });
});

/** A state of these sessions at seq 9. */
function stateOf(...sessions: Session[]): SessionsState {
  const state = emptySessionsState();
  for (const s of sessions) state.sessions.set(s.id, s);
  state.lastSeq = 9;
  state.lastEventId = ID(99);
  return state;
}
const CURSOR = { seq: 9, position: { offset: 1234 } };

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** Sets a rendered file's checksum to what its bytes say, after an edit (so only the other checks can refuse it). */
function resealed(text: string): string {
  const trailer = parseTrailer(Buffer.from(text.slice(-TRAILER_BYTES)), Buffer.byteLength(text))!;
  const bytes = Buffer.from(text);
  return `${bytes.subarray(0, trailer.checksumEnd).toString()},\n  "checksum": ${crc32(bytes.subarray(0, trailer.checksumEnd))}\n}\n`;
}

describe('a whole sessions.json', () => {
  it('renders records one a line, its index and facts, and a trailer whose checksum covers everything before it', () => {
    const ended = { ...MINIMAL, id: ID(5), status: 'Completed' as const, endedAt: '2026-11-30T06:00:10.000Z' };
    const state = stateOf(MINIMAL, ended);
    const { parts, index, facts } = renderSessionsFileParts(state, CURSOR, 4);
    const text = Buffer.concat(parts).toString();
    const records = `${FILE_HEADER}\n    ${renderRecord(MINIMAL)},\n    ${renderRecord(ended)}`;
    expect(text.startsWith(records)).toBe(true);
    expect(facts).toStrictEqual({
      generation: 4, indexBytes: 0, indexCrc: 0, recordsEnd: Buffer.byteLength(records), recordsCrc: crc32(records), firstLive: FILE_HEADER.length + 5, holes: 0,
      endedStats: computeStats([ended]), activeStats: computeStats([MINIMAL]),
    });
    expect(text.slice(Buffer.byteLength(records))).toBe(renderTrailer(facts, ID(99), CURSOR));
    expect([index.count, index.statusOf(0), index.statusOf(1), index.startOf(1), index.lengthOf(1), index.crcOf(1)]).toEqual([2, 'A', 'C', facts.firstLive + renderRecord(MINIMAL).length + 6, renderRecord(ended).length, crc32(renderRecord(ended))]);
    const parsed = parseSessionsFile(text, 'f.json');
    expect(parsed.cursor).toStrictEqual(CURSOR);
    expect([...parsed.state.sessions.values()]).toStrictEqual([MINIMAL, ended]);
    expect([parsed.state.lastSeq, parsed.state.lastEventId]).toEqual([9, ID(99)]);
    expect(renderSessionsFile(state, CURSOR)).toBe(Buffer.concat(renderSessionsFileParts(state, CURSOR).parts).toString());
  });

  it('a large file comes in pieces of about 1 MiB, none empty', () => {
    const sessions = Array.from({ length: 3000 }, (_, i) => ({ ...MINIMAL, id: ID(10_000 + i), purpose: 'x'.repeat(1000) }));
    const { parts } = renderSessionsFileParts(stateOf(...sessions), CURSOR);
    const total = parts.reduce((n, p) => n + p.length, 0);
    expect(total).toBeGreaterThan(3 * 1024 * 1024);
    // The records in 1 MiB pieces (each ends at the first record past 1 MiB), then the trailer.
    expect(parts.length).toBe(Math.ceil(total / (1024 * 1024 + 1200)) + 1);
    for (const part of parts.slice(0, -2)) expect(part.length).toBeGreaterThanOrEqual(1024 * 1024);
    expect(parts.every((p) => p.length > 0)).toBe(true);
  });

  it('streamed as its sessions are read, a file is the same bytes as rendered whole, in pieces of about 1 MiB', async () => {
    const pieces = async (sessions: Session[]) => {
      const out: Buffer[] = [];
      const state = stateOf(...sessions);
      for await (const piece of streamSessionsFile(toAsync(sessions.map((session) => ({ session }))), CURSOR, state.lastEventId)) out.push(piece);
      return { out, whole: renderSessionsFile(state, CURSOR) };
    };
    // Agents met first among the Active sessions and among the ended ones in different orders: each stats object keeps its own.
    const mixed = [
      { ...MINIMAL, id: ID(20), agentName: 'TestAgent' },
      FULL,
      { ...MINIMAL, id: ID(21), agentName: 'ReviewAgent', status: 'Completed' as const, endedAt: '2026-11-30T06:00:02.000Z' },
      { ...MINIMAL, id: ID(22) },
    ];
    for (const sessions of [[], [MINIMAL], mixed]) {
      const { out, whole } = await pieces(sessions);
      expect(Buffer.concat(out).toString()).toBe(whole);
    }
    const large = Array.from({ length: 3000 }, (_, i) => ({ ...MINIMAL, id: ID(10_000 + i), purpose: 'x'.repeat(1000) }));
    const { out, whole } = await pieces(large);
    expect(Buffer.concat(out).toString()).toBe(whole);
    expect(out.length).toBeGreaterThan(3);
    for (const piece of out) expect(piece.length).toBeLessThan(1024 * 1024 + 1200);
    // Each piece goes out as soon as it is made: the first before most sessions are read.
    let read = 0;
    const counted = (async function* () {
      for (const session of large) {
        read += 1;
        yield { session };
      }
    })();
    const stream = streamSessionsFile(counted, CURSOR, null);
    await stream.next();
    expect(read).toBeLessThan(1100);
    await stream.return(undefined);
  });

  it('records still in a loaded file are copied in their file order; the index keeps spawn order', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
      const spawned = [];
      for (let i = 0; i < 30; i += 1) spawned.push(await m.spawnAgentSession('CodeGenAgent', `session ${i}`, contextFor()));
      await m.checkpoint();
      // Ended in place in reverse order: their records are written anew at the end, the third's first.
      for (const ended of spawned.slice(0, 3).reverse()) {
        await m.completeSession(ended.id, { success: true, output: 'done' });
        await m.checkpoint();
      }
      await m.close();
      const loaded = await loadSessionsFile(join(dir, 'sessions.json'));
      if (typeof loaded !== 'object') throw new Error(`not loaded: ${loaded}`);
      const map = loaded.state.sessions as SessionMap;
      // One of them read into memory: it goes after those copied from the file.
      const third = { ...MINIMAL, id: ID(77) };
      map.set(third.id, third);
      const { parts, index } = renderSessionsFileParts(loaded.state, loaded.cursor);
      const text = Buffer.concat(parts).toString();
      // The ended records stay in the file (rendering reads the Active ones into memory): copied
      // first, in their file order; then those in memory, in spawn order.
      const ids = spawned.map((x) => x.id);
      expect([...parseSessionsFile(text, 'f').state.sessions.keys()]).toEqual([ids[2], ids[1], ids[0], ...ids.slice(3), third.id]);
      expect([index.count, index.statusOf(0), index.statusOf(2), index.statusOf(3), index.statusOf(30)]).toEqual([31, 'C', 'C', 'A', 'A']);
      expect(index.startOf(2)).toBeLessThan(index.startOf(0));
      expect(parts.every((p) => p.length > 0)).toBe(true);
      map.discard();
      // Every record still in the file (all ended, none read): the last piece copied is a record, and no piece is empty.
      const again = await SessionManager.open(dir, { checkpointIdleMs: -1 });
      for (const active of spawned.slice(3)) await again.completeSession(active.id, { success: true, output: 'done' });
      await again.close();
      const ended = await loadSessionsFile(join(dir, 'sessions.json'));
      if (typeof ended !== 'object') throw new Error(`not loaded: ${ended}`);
      const copied = renderSessionsFileParts(ended.state, ended.cursor).parts;
      expect(copied.every((p) => p.length > 0)).toBe(true);
      expect(parseSessionsFile(Buffer.concat(copied), 'f').state.sessions.size).toBe(30);
      (ended.state.sessions as SessionMap).discard();
    } finally {
      await cleanup();
    }
  });

  it('an empty store: no live record (first_live -1), and parsed back empty', () => {
    const { facts, parts } = renderSessionsFileParts(emptySessionsState(), { seq: 0, position: {} });
    expect([facts.firstLive, facts.recordsEnd, facts.generation]).toEqual([-1, FILE_HEADER.length, null]);
    const parsed = parseSessionsFile(Buffer.concat(parts), 'f.json');
    expect(parsed.state.sessions.size).toBe(0);
    expect(parsed.state.lastEventId).toBeNull();
  });

  it('the trailer: found at the end, its places exact; anything else is no trailer', () => {
    const text = renderSessionsFile(stateOf(MINIMAL), CURSOR);
    const size = Buffer.byteLength(text);
    const trailer = parseTrailer(Buffer.from(text.slice(-TRAILER_BYTES)), size)!;
    const checksum = Number(/"checksum": (\d+)/.exec(text)![1]);
    const checkpointAt = Number(/"checkpoint_at": (\d+)/.exec(text)![1]);
    expect(trailer).toStrictEqual({ checkpointAt, checkpointEnd: text.lastIndexOf('\n  },') + 4, checksumEnd: text.lastIndexOf(',\n  "checksum"'), checksum });
    expect(text.slice(checkpointAt, trailer.checkpointEnd).startsWith('{\n    "format": 3,')).toBe(true);
    expect(text.slice(checkpointAt, trailer.checkpointEnd).endsWith('\n  }')).toBe(true);
    expect(parseTrailer(Buffer.from('not a trailer'), 13)).toBeNull();
    // A checkpoint said to start at or after its own end.
    const lying = text.replace(`"checkpoint_at": ${checkpointAt}`, `"checkpoint_at": ${size}`);
    expect(parseTrailer(Buffer.from(lying.slice(-TRAILER_BYTES)), Buffer.byteLength(lying))).toBeNull();
    // At its own end exactly: no room for the object either.
    const atEnd = text.replace(`"checkpoint_at": ${checkpointAt}`, `"checkpoint_at": ${trailer.checkpointEnd}`);
    const atEndTrailer = parseTrailer(Buffer.from(atEnd.slice(-TRAILER_BYTES)), Buffer.byteLength(atEnd));
    expect(atEndTrailer).toBeNull();
    // A file shorter than the trailer's window is read whole.
    expect(parseTrailer(Buffer.from('x'), 1)).toBeNull();
  });

  it('refuses a file without a trailer, an edited one, and one whose checkpoint is not this version’s or does not fit', () => {
    const text = renderSessionsFile(stateOf(MINIMAL), CURSOR);
    const refused = (input: string, message: string | RegExp) => expect(() => parseSessionsFile(input, 'f.json')).toThrow(expect.objectContaining({ code: 'CORRUPT_CHECKPOINT', message: typeof message === 'string' ? message : expect.stringMatching(message) }));
    refused('{"sessions": [], "version": 1}', 'f.json has no checksum: it was not written by this library, or was edited');
    refused(text.replace('"purpose":"p"', '"purpose":"q"'), 'f.json was edited: its checksum does not match its content');
    refused(resealed(text.replace('"format": 3', '"format": 2')), 'f.json has no valid checkpoint (a file of another version is rebuilt)');
    refused(resealed(text.replace('"Review":{', '"Reviewing":{')), 'f.json has stats for other phases than this version\'s');
    refused(resealed(text.replace(/"first_live": \d+/, '"first_live": 99999')), 'f.json has a checkpoint that does not fit the file');
    refused(resealed(text.replace(/"records_end": \d+/, '"records_end": 99999')), 'f.json has a checkpoint that does not fit the file');
    refused(resealed(text.replace('"sessions": [', '"sessions": {').replace(`${renderRecord(MINIMAL)}\n  ]`, `${renderRecord(MINIMAL)}\n  }`)), 'f.json is not JSON');
    expect(() => parseSessionsFile(resealed(text.replace('"sessions": [', '"sessions": {')), 'f.json')).toThrow(expect.objectContaining({ cause: expect.any(SyntaxError) }));
    refused(resealed(text.replace(/"first_live": \d+/, `"first_live": ${/"records_end": (\d+)/.exec(text)![1]}`)), 'f.json has a checkpoint that does not fit the file');
    // Active stats of other phases than this version's.
    const activeAt = text.indexOf('"active_stats"');
    refused(resealed(text.slice(0, activeAt) + text.slice(activeAt).replace('"Review":{', '"Reviewing":{')), 'f.json has stats for other phases than this version\'s');
    expect(() => parseSessionsFile(resealed(text.replace('"format": 3', '"format": 2')), 'f.json')).toThrow(expect.objectContaining({ cause: expect.anything() }));
    refused(resealed(text.replace('"sessions": [', '"sessionz": [')), 'f.json has no sessions array');
    const twice = renderSessionsFile(stateOf(MINIMAL, { ...MINIMAL, id: ID(6) }), CURSOR).replaceAll(ID(6), ID(3));
    refused(resealed(twice), 'f.json holds a record without a unique id');
    refused(resealed(text.replace(`"id":"${ID(3)}"`, '"id":3                                     ')), 'f.json holds a record without a unique id');
  });

  it('parseCheckpoint: the facts and cursor as written, an absent index as null, older files without Active stats', () => {
    const text = renderSessionsFile(stateOf(MINIMAL), CURSOR);
    const trailer = parseTrailer(Buffer.from(text.slice(-TRAILER_BYTES)), Buffer.byteLength(text))!;
    const object = text.slice(trailer.checkpointAt, trailer.checkpointEnd);
    const parsed = parseCheckpoint(Buffer.from(object), 'f', trailer.checkpointAt);
    expect(parsed.cursor).toStrictEqual(CURSOR);
    expect(parsed.eventId).toBe(ID(99));
    expect(parsed.facts.generation).toBeNull();
    expect([parsed.facts.indexBytes, parsed.facts.indexCrc]).toEqual([0, 0]);
    const indexed = parseCheckpoint(Buffer.from(object.replace('"index": null', '"index": {"generation":2,"bytes":64,"crc":7}')), 'f', trailer.checkpointAt);
    expect([indexed.facts.generation, indexed.facts.indexBytes, indexed.facts.indexCrc]).toEqual([2, 64, 7]);
    const older = JSON.parse(object) as Record<string, unknown>;
    delete older['active_stats'];
    expect(parseCheckpoint(Buffer.from(JSON.stringify(older)), 'f', trailer.checkpointAt).facts.activeStats).toBeNull();
    expect(() => parseCheckpoint(Buffer.from(object), 'f', parsed.facts.recordsEnd)).toThrow(expect.objectContaining({ message: 'f has a checkpoint that does not fit the file' }));
  });

  it('sameSessions: the same records in any order; another size or another record is not', () => {
    const a = stateOf(MINIMAL, FULL).sessions;
    expect(sameSessions(a, stateOf(FULL, MINIMAL).sessions)).toBe(true);
    expect(sameSessions(a, stateOf(MINIMAL).sessions)).toBe(false);
    expect(sameSessions(a, stateOf(MINIMAL, { ...FULL, revision: 7 }).sessions)).toBe(false);
    expect(sameSessions(a, stateOf(MINIMAL, { ...FULL, id: ID(7) }).sessions)).toBe(false);
    expect(sameSessions(stateOf(MINIMAL).sessions, a)).toBe(false);
  });

  it('sameRendering says what comparing two whole renderings says, without rendering', () => {
    const ended = { ...MINIMAL, id: ID(5), status: 'Completed' as const, endedAt: '2026-11-30T06:00:10.000Z' };
    const base = stateOf(MINIMAL, FULL, ended);
    const otherEvent = { ...stateOf(MINIMAL, FULL, ended), lastEventId: ID(98) };
    for (const other of [stateOf(MINIMAL, FULL, ended), stateOf(FULL, MINIMAL, ended), stateOf(MINIMAL, FULL), stateOf(MINIMAL, FULL, ended, { ...MINIMAL, id: ID(6) }), stateOf(MINIMAL, { ...FULL, purpose: 'other' }, ended), otherEvent]) {
      expect(sameRendering(base, other)).toBe(renderSessionsFile(base, CURSOR) === renderSessionsFile(other, CURSOR));
      expect(sameRendering(other, base)).toBe(renderSessionsFile(base, CURSOR) === renderSessionsFile(other, CURSOR));
    }
  });

  it('sameRendering walks a loaded file a record at a time, and sees the stats its checkpoint counted', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
      for (let i = 0; i < 5; i += 1) await m.completeSession((await m.spawnAgentSession('CodeGenAgent', `session ${i}`, contextFor())).id, { success: true, output: 'done' });
      const live = stateOf(...(await m.listSessions()));
      await m.close();
      const path = join(dir, 'sessions.json');
      const load = async () => {
        const loaded = await loadSessionsFile(path);
        if (typeof loaded !== 'object') throw new Error(`not loaded: ${loaded}`);
        return { ...loaded.state, lastEventId: live.lastEventId };
      };
      const loaded = await load();
      expect(sameRendering(live, loaded)).toBe(true);
      expect([...(loaded.sessions as SessionMap).slots()].every(([, slot]) => typeof slot === 'number')).toBe(true);
      (loaded.sessions as SessionMap).discard();
      // The checkpoint's own count of its ended sessions edited (and the file resealed): the states differ.
      const text = (await readFile(path, 'utf8')).replace('"ended_stats": {"total":5', '"ended_stats": {"total":6');
      const sealed = text.lastIndexOf(',\n  "checksum": ');
      await writeFile(path, `${text.slice(0, sealed)},\n  "checksum": ${crc32(text.slice(0, sealed))}\n}\n`);
      const edited = await load();
      expect(sameRendering(live, edited)).toBe(false);
      (edited.sessions as SessionMap).discard();
    } finally {
      await cleanup();
    }
  });

  it('sameSessions reads a loaded file a record at a time and keeps none of them', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
      for (let i = 0; i < 5; i += 1) await m.spawnAgentSession('CodeGenAgent', `session ${i}`, contextFor());
      const live = new Map((await m.listSessions()).map((s) => [s.id, s]));
      await m.close();
      const loaded = await loadSessionsFile(join(dir, 'sessions.json'));
      if (typeof loaded !== 'object') throw new Error(`not loaded: ${loaded}`);
      const map = loaded.state.sessions as SessionMap;
      expect(sameSessions(live, map)).toBe(true);
      const [first] = live.keys();
      expect(sameSessions(new Map([...live, [first!, { ...live.get(first!)!, purpose: 'another' }]]), map)).toBe(false);
      expect([...map.slots()].every(([, slot]) => typeof slot === 'number')).toBe(true);
      map.discard();
    } finally {
      await cleanup();
    }
  });
});
