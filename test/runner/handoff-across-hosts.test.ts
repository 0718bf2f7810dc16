import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaudeRunner, PostgresEventStore, SessionManager, type Session, type SessionManagerOptions } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { claudeTestEnv } from '../../examples/claude-env.js';
import { startScriptedApi } from '../../examples/scripted-api-server.js';
import { tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/*
 * Two "hosts" on one PostgreSQL store: each its own HOME (so its own Claude config and
 * transcripts), its own manager folder and its own manager; host A is a process of its own
 * (test/helpers/children/pg-host.ts). The real CLI runs the agents against a scripted API
 * that records every request.
 */
describe('a handoff to another host forks the stored conversation (real CLI, one PostgreSQL store)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let schema: string;
  let api: Awaited<ReturnType<typeof startScriptedApi>>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    schema = freshSchema();
    api = await startScriptedApi((request) => ({ text: JSON.stringify(request.body['messages']).includes('PARENT-ANSWER') ? 'CHILD-ANSWER: reviewed' : 'PARENT-ANSWER: wrote the code' }));
  });
  afterEach(async () => {
    await api.close();
    await dropSchema(schema);
    await cleanup();
  });

  const context = (phase: 'CodeGeneration' | 'Review') => ({ issueNumber: 13, currentPhase: phase, worktreePath: dir });
  async function host(name: string, options: SessionManagerOptions = {}, runner: ConstructorParameters<typeof ClaudeRunner>[0] = {}) {
    const env = await claudeTestEnv(join(dir, name, 'home'), api.url);
    return SessionManager.open(join(dir, name, 'manager'), {
      store: new PostgresEventStore({ connectionString: PG_URL, schema }),
      runner: new ClaudeRunner({ inheritEnv: false, env, ...runner }),
      ...options,
    });
  }

  /** Host A as its own process: runs the parent's agent, then exits. */
  async function hostA(...flags: string[]): Promise<Session> {
    const a = startChild('pg-host', [join(dir, 'a', 'manager'), join(dir, 'a', 'home'), PG_URL, schema, api.url, dir, ...flags]);
    const { code, stderr } = await a.exited;
    expect(code, stderr).toBe(0);
    return JSON.parse(a.lines.at(-1)!) as Session;
  }

  it('the child on host B carries the parent\'s turns from host A as assistant messages', async () => {
    const parent = await hostA();
    expect(parent.result?.output).toBe('PARENT-ANSWER: wrote the code');
    // Stored with the session, and the log says so: size and hash of exactly what is stored.
    const recorded = parent.agent?.transcript;
    expect(recorded).toMatchObject({ bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const b = await host('b');
    const requestsBefore = api.requests.length;
    const child = await b.handoff(parent.id, 'ReviewAgent', context('Review'));
    const reviewed = await b.waitForAgent(child.id);
    expect(reviewed).toMatchObject({ status: 'Active', result: { output: 'CHILD-ANSWER: reviewed' } });
    expect(reviewed.agent?.resumedFrom).toBe(parent.id);
    // A fork: the parent's answer comes back as an assistant turn, not as quoted text.
    const messages = api.requests[requestsBefore]!.body['messages'] as Array<{ role: string; content: unknown }>;
    const assistant = messages.filter((m) => m.role === 'assistant').map((m) => JSON.stringify(m.content));
    expect(assistant.some((text) => text.includes('PARENT-ANSWER: wrote the code'))).toBe(true);
    // Host B's copy of the stored transcript: private, and the bytes the log vouches for.
    const copy = join(dir, 'b', 'manager', 'transcripts', `${parent.id}.jsonl`);
    expect((await stat(copy)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'b', 'manager', 'transcripts'))).mode & 0o777).toBe(0o700);
    const bytes = await readFile(copy);
    expect({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual(recorded);
    await b.close();
  });

  it('with storing off on host A, the child on host B fails before it starts, saying why', async () => {
    const parent = await hostA('--no-store');
    expect(parent.agent?.transcript).toEqual({ skipped: 'storing transcripts is turned off (storeTranscripts: false)' });
    const b = await host('b');
    const requestsBefore = api.requests.length;
    const child = await b.handoff(parent.id, 'ReviewAgent', context('Review'));
    const ended = await b.waitForAgent(child.id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toMatch(new RegExp(`cannot fork the conversation of session ${parent.id}: it is not stored`));
    expect(ended.agent).toBeUndefined();
    expect(api.requests.length).toBe(requestsBefore);
    await b.close();
  });

  it('with forkWithoutTranscript: \'fresh\', that child starts without the parent\'s turns instead', async () => {
    const a = await host('a', { storeTranscripts: false });
    const parent = await a.spawnAgentSession('CodeGenAgent', 'Write the code', context('CodeGeneration'));
    await a.waitForAgent(parent.id);
    const b = await host('b', {}, { forkWithoutTranscript: 'fresh' });
    const child = await b.handoff(parent.id, 'ReviewAgent', context('Review'));
    const ended = await b.waitForAgent(child.id);
    expect(ended.agent?.resumedFrom).toBeNull();
    expect(ended.status).toBe('Active');
    await a.close();
    await b.close();
  });

  it('a transcript over maxTranscriptBytes is not stored, and the session says why', async () => {
    const a = await host('a', { maxTranscriptBytes: 100 });
    const parent = await a.spawnAgentSession('CodeGenAgent', 'Write the code', context('CodeGeneration'));
    const ran = await a.waitForAgent(parent.id);
    expect(ran.agent?.transcript).toEqual({ skipped: expect.stringMatching(/^the transcript is \d+ bytes, over the limit of 100 \(maxTranscriptBytes\)$/) });
    expect(await (a as unknown as { store: PostgresEventStore }).store.transcripts.load(parent.id)).toBeNull();
    await a.close();
  });

  it('the CLI\'s own reason for a failed run is the session\'s error: "No conversation found…", not an exit code', async () => {
    const missing = uuidv4();
    const a = await host('a', {}, { args: ({ prompt, sessionId }) => ['-p', prompt, '--output-format', 'stream-json', '--verbose', '--resume', missing, '--fork-session', '--session-id', sessionId] });
    const session = await a.spawnAgentSession('CodeGenAgent', 'p', context('CodeGeneration'));
    const ended = await a.waitForAgent(session.id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toContain(`No conversation found with session ID: ${missing}`);
    expect(ended.error).toMatch(/error_during_execution/);
    await a.close();
  });
});
