import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import type { SessionEvent } from '../src/index.js';
import { encodeEventLine } from '../src/store/file/line-codec.js';
import { EVENT_SCHEMA_VERSION } from '../src/events/event-envelope.js';

const PHASES = ['CodeGeneration', 'Review', 'Test', 'CICD'] as const;
const AGENTS = ['CodeGenAgent', 'ReviewAgent', 'TestAgent', 'DeployAgent'] as const;

/**
 * Writes a realistic log of about `events` events straight to `<dir>/events.ndjson` (bypassing
 * the manager, which would need a million fsyncs): pipelines of four sessions, each spawned,
 * its agent started and finished, then handed off (the last completed) — 16 events a pipeline;
 * one in ten fails at its third step (Test) —
 * and, spread between them, sessions left Active with their agent running, `activeShare` of all
 * sessions (a store in use holds some; they are what a checkpoint must keep rewriting).
 */
export async function writeBigLog(dir: string, events: number, activeShare = 0): Promise<{ events: number; sessions: number; bytes: number; active: string[] }> {
  const active: string[] = [];
  const handle = await open(join(dir, 'events.ndjson'), 'w');
  let seq = 0;
  let sessions = 0;
  let bytes = 0;
  let buffer: string[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = () => new Date(t0 + seq * 1000).toISOString();
  const push = async (event: Omit<SessionEvent, 'seq' | 'id' | 'timestamp' | 'schemaVersion'> & { txSize?: number }) => {
    seq += 1;
    const { type, sessionId, data, txSize } = event as SessionEvent;
    const line = encodeEventLine({ seq, id: uuidv4(), type, sessionId, timestamp: at(), schemaVersion: EVENT_SCHEMA_VERSION, ...(txSize === undefined ? {} : { txSize }), data } as SessionEvent);
    buffer.push(line);
    bytes += Buffer.byteLength(line);
    if (buffer.length >= 5000) {
      await handle.write(buffer.join(''));
      buffer = [];
    }
  };
  for (let issue = 1; seq < events; issue += 1) {
    let parent: string | null = null;
    let id = uuidv4();
    for (let step = 0; step < 4; step += 1) {
      const context = { issueNumber: issue, currentPhase: PHASES[step]!, worktreePath: `/w/issue-${issue}`, previousResults: [] };
      if (parent === null) await push({ type: 'SessionSpawned', sessionId: id, data: { agentName: AGENTS[step]!, purpose: `Resolve issue #${issue}`, context, parentSession: null } });
      sessions += 1;
      const host = { host: 'bench', pid: 1000 + step, startTime: '1' };
      await push({ type: 'SessionAgentStarted', sessionId: id, data: { process: host, supervisor: host, command: ['claude', '-p', '<prompt>'], cwd: context.worktreePath, logFile: `/logs/${id}.log`, resumedFrom: parent } });
      // One pipeline in ten fails its tests, as a day's work does.
      const failing = step === 2 && issue % 10 === 0;
      const result = { success: !failing, output: failing ? `${AGENTS[step]}: 3 tests failed` : `${AGENTS[step]} done`, numTurns: 3, durationMs: 1200, totalCostUsd: 0.01 };
      await push({ type: 'SessionAgentFinished', sessionId: id, data: { result } });
      if (failing) {
        await push({ type: 'SessionFailed', sessionId: id, data: { error: 'TestAgent: 3 tests failed in src/parser.test.ts', result } });
        break;
      }
      if (step === 3) {
        await push({ type: 'SessionCompleted', sessionId: id, data: { result } });
        break;
      }
      const child = uuidv4();
      await push({ type: 'SessionHandedOff', sessionId: id, txSize: 2, data: { toAgent: AGENTS[step + 1]!, childSession: child, result } });
      const next = { ...context, currentPhase: PHASES[step + 1]!, previousResults: [{ ...result, agentName: AGENTS[step]!, sessionId: id }] };
      await push({ type: 'SessionSpawned', sessionId: child, data: { agentName: AGENTS[step + 1]!, purpose: `Handoff from session ${id}`, context: next, parentSession: id } });
      parent = id;
      id = child;
    }
    // Sessions left Active, so that `activeShare` of all sessions are.
    while (active.length < (activeShare * sessions) / (1 - activeShare) && seq < events) {
      const lone = uuidv4();
      const context = { issueNumber: issue, currentPhase: 'Review' as const, worktreePath: `/w/issue-${issue}`, previousResults: [] };
      await push({ type: 'SessionSpawned', sessionId: lone, data: { agentName: 'ReviewAgent', purpose: `Review issue #${issue}`, context, parentSession: null } });
      const host = { host: 'bench', pid: 999, startTime: '1' };
      await push({ type: 'SessionAgentStarted', sessionId: lone, data: { process: host, supervisor: host, command: ['claude', '-p', '<prompt>'], cwd: context.worktreePath, logFile: `/logs/${lone}.log`, resumedFrom: null } });
      active.push(lone);
    }
  }
  await handle.write(buffer.join(''));
  await handle.close();
  return { events: seq, sessions: sessions + active.length, bytes, active };
}
