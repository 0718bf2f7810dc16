import { SlotTable } from '../../src/store/slot-store.js';
import { FileSlotTable } from '../../src/store/file/file-slots.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { EVENT_SCHEMA_VERSION } from '../../src/events/event-envelope.js';
import type { SessionEvent } from '../../src/index.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';
import { readFileSessions, readPostgresSessions, type SessionReads } from '../../src/query/session-reads.js';
import type { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { parseTokens } from '../../src/server/access.js';
import { startDashboard, type Dashboard } from '../../src/server/dashboard.js';
import type { DashboardActions } from '../../src/server/actions.js';
import { FileEventStore } from '../../src/store/file/file-event-store.js';
import { FileTranscripts } from '../../src/store/file/file-transcripts.js';

/** What agents may write that a page would run or a reader misread. */
export const HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(2)> <a href="javascript:alert(3)">x</a> \u202eexe.txt';

/** A GET (or other method, with a body) with the headers given; resolves with status, headers and body. */
export function fetchFrom(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(target, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A button's form post, as a page of the dashboard at `url` sends it (its Origin), with more headers if given. */
export function postAction(url: string, path: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return fetchFrom(url, path, {
    method: 'POST',
    headers: { origin: new URL(url).origin, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A dashboard on the file store at `dir`, on a free port of 127.0.0.1 unless told otherwise. */
export function dashboardOn(dir: string, options: { host?: string; tokens?: string[]; actions?: DashboardActions } = {}): Promise<Dashboard> {
  return startDashboard({
    logs: join(dir, 'logs'),
    read: <T>(fn: (reads: SessionReads) => Promise<T>) => readFileSessions(dir, fn),
    store: new FileEventStore(dir),
    transcripts: new FileTranscripts(dir),
    location: dir,
    slots: new SlotTable(new FileSlotTable(dir)),
    port: 0,
    ...(options.host === undefined ? {} : { host: options.host }),
    tokens: parseTokens(options.tokens ?? []),
    ...(options.actions === undefined ? {} : { actions: options.actions }),
  });
}

/** A dashboard on a PostgreSQL store, on a free port of 127.0.0.1; `logs` as `serve` passes it. */
export function dashboardOnPostgres(store: PostgresEventStore, options: { logs?: string } = {}): Promise<Dashboard> {
  return startDashboard({
    read: <T>(fn: (reads: SessionReads) => Promise<T>) => readPostgresSessions(store, fn),
    store,
    transcripts: store.transcripts,
    location: store.location,
    port: 0,
    ...(options.logs === undefined ? {} : { logs: options.logs }),
  });
}

/**
 * A file store holding one session whose agent is running (spawned, agent started, written
 * straight to the log with the library's encoder), and that agent's log file at
 * `<dir>/logs/<id>.log`, its agent and manager on `host` (this one by default). Returns the session's id.
 */
export async function storeWithRunningAgent(dir: string, log: string, host = hostname()): Promise<string> {
  const id = uuidv4();
  const at = new Date().toISOString();
  const agent = { host, pid: 4242, startTime: '1' };
  const context = { issueNumber: 12, currentPhase: 'CodeGeneration' as const, worktreePath: '/w/issue-12', previousResults: [] };
  const events = [
    { seq: 1, id: uuidv4(), type: 'SessionSpawned', sessionId: id, timestamp: at, schemaVersion: EVENT_SCHEMA_VERSION, data: { agentName: 'CodeGenAgent', purpose: 'Implement #12', context, parentSession: null } },
    { seq: 2, id: uuidv4(), type: 'SessionAgentStarted', sessionId: id, timestamp: at, schemaVersion: EVENT_SCHEMA_VERSION, data: { process: agent, supervisor: agent, command: ['claude', '-p'], cwd: '/w/issue-12', logFile: join(dir, 'logs', `${id}.log`), resumedFrom: null } },
  ] as SessionEvent[];
  await writeFile(join(dir, 'events.ndjson'), events.map(encodeEventLine).join(''));
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(join(dir, 'logs', `${id}.log`), log);
  return id;
}
