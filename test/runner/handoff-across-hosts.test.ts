import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { describe, expect } from 'vitest';
import { PostgresEventStore, type ClaudeRunnerOptions, type Session, type SessionManager, type SessionManagerOptions } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { test, type RealClaude } from '../helpers/real-claude.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** Two hosts on one PostgreSQL schema: each its own HOME and manager folder, the real CLI for both. */
interface Hosts {
  claude: RealClaude;
  /** Opens a manager as host `name` (in this process). */
  host(name: string, options?: SessionManagerOptions, runner?: ClaudeRunnerOptions): Promise<SessionManager>;
  /** Host A as its own process: runs the parent's agent, then exits; resolves with the parent. */
  hostA(...flags: string[]): Promise<Session>;
}

/*
 * Two "hosts" on one PostgreSQL store: each its own HOME (so its own Claude config and
 * transcripts), its own manager folder and its own manager; host A is a process of its own
 * (test/helpers/children/pg-host.ts). The real CLI runs the agents against a scripted API
 * that records every request.
 */
describe('a handoff to another host forks the stored conversation (real CLI, one PostgreSQL store)', () => {
  const it = test.extend<{ hosts: Hosts }>({
    hosts: async ({ claude }, use) => {
      const schema = freshSchema();
      claude.reply = (request) => ({ text: JSON.stringify(request.body['messages']).includes('PARENT-ANSWER') ? 'CHILD-ANSWER: reviewed' : 'PARENT-ANSWER: wrote the code' });
      const { dir, api } = claude;
      try {
        await use({
          claude,
          host: (name, options = {}, runner = {}) =>
            claude.open({ store: join(dir, name, 'manager'), host: name, runner, manager: { store: new PostgresEventStore({ connectionString: PG_URL, schema }), ...options } }),
          hostA: async (...flags) => {
            const a = startChild('pg-host', [join(dir, 'a', 'manager'), claude.home('a'), PG_URL, schema, api.url, dir, ...flags]);
            const { code, stderr } = await a.exited;
            expect(code, stderr).toBe(0);
            return JSON.parse(a.lines.at(-1)!) as Session;
          },
        });
      } finally {
        await dropSchema(schema);
      }
    },
  });
  const context = (claude: RealClaude, phase: 'CodeGeneration' | 'Review') => ({ issueNumber: 13, currentPhase: phase, worktreePath: claude.dir });

  it('the child on host B carries the parent\'s turns from host A as assistant messages', async ({ hosts: { claude, host, hostA } }) => {
    const parent = await hostA();
    expect(parent.result?.output).toBe('PARENT-ANSWER: wrote the code');
    // Stored with the session, and the log says so: size and hash of exactly what is stored.
    const recorded = parent.agent?.transcript;
    expect(recorded).toMatchObject({ bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const b = await host('b');
    const requestsBefore = claude.api.requests.length;
    const child = await b.handoff(parent.id, 'ReviewAgent', context(claude, 'Review'));
    const reviewed = await b.waitForAgent(child.id);
    expect(reviewed).toMatchObject({ status: 'Active', result: { output: 'CHILD-ANSWER: reviewed' } });
    expect(reviewed.agent?.resumedFrom).toBe(parent.id);
    // A fork: the parent's answer comes back as an assistant turn, not as quoted text.
    const messages = claude.api.requests[requestsBefore]!.body['messages'] as Array<{ role: string; content: unknown }>;
    const assistant = messages.filter((m) => m.role === 'assistant').map((m) => JSON.stringify(m.content));
    expect(assistant.some((text) => text.includes('PARENT-ANSWER: wrote the code'))).toBe(true);
    // Host B's copy of the stored transcript: private, and the bytes the log vouches for.
    const copy = join(claude.dir, 'b', 'manager', 'transcripts', `${parent.id}.jsonl`);
    expect((await stat(copy)).mode & 0o777).toBe(0o600);
    expect((await stat(join(claude.dir, 'b', 'manager', 'transcripts'))).mode & 0o777).toBe(0o700);
    const bytes = await readFile(copy);
    expect({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual(recorded);
    await b.close();
  });

  it('with storing off on host A, the child on host B fails before it starts, saying why', async ({ hosts: { claude, host, hostA } }) => {
    const parent = await hostA('--no-store');
    expect(parent.agent?.transcript).toEqual({ skipped: 'storing transcripts is turned off (storeTranscripts: false)' });
    const b = await host('b');
    const requestsBefore = claude.api.requests.length;
    const child = await b.handoff(parent.id, 'ReviewAgent', context(claude, 'Review'));
    const ended = await b.waitForAgent(child.id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toMatch(new RegExp(`cannot fork the conversation of session ${parent.id}: it is not stored`));
    expect(ended.agent).toBeUndefined();
    expect(claude.api.requests.length).toBe(requestsBefore);
    await b.close();
  });

  it('with forkWithoutTranscript: \'fresh\', that child starts without the parent\'s turns instead', async ({ hosts: { claude, host } }) => {
    const a = await host('a', { storeTranscripts: false });
    const parent = await a.spawnAgentSession('CodeGenAgent', 'Write the code', context(claude, 'CodeGeneration'));
    await a.waitForAgent(parent.id);
    const b = await host('b', {}, { forkWithoutTranscript: 'fresh' });
    const child = await b.handoff(parent.id, 'ReviewAgent', context(claude, 'Review'));
    const ended = await b.waitForAgent(child.id);
    expect(ended.agent?.resumedFrom).toBeNull();
    expect(ended.status).toBe('Active');
    await a.close();
    await b.close();
  });

  it('a transcript over maxTranscriptBytes is not stored, and the session says why', async ({ hosts: { claude, host } }) => {
    const a = await host('a', { maxTranscriptBytes: 100 });
    const parent = await a.spawnAgentSession('CodeGenAgent', 'Write the code', context(claude, 'CodeGeneration'));
    const ran = await a.waitForAgent(parent.id);
    expect(ran.agent?.transcript).toEqual({ skipped: expect.stringMatching(/^the transcript is \d+ bytes, over the limit of 100 \(maxTranscriptBytes\)$/) });
    expect(await (a as unknown as { store: PostgresEventStore }).store.transcripts.load(parent.id)).toBeNull();
    await a.close();
  });

  it('the CLI\'s own reason for a failed run is the session\'s error: "No conversation found…", not an exit code', async ({ hosts: { claude, host } }) => {
    const missing = uuidv4();
    const a = await host('a', {}, { args: ({ prompt, sessionId }) => ['-p', prompt, '--output-format', 'stream-json', '--verbose', '--resume', missing, '--fork-session', '--session-id', sessionId] });
    const session = await a.spawnAgentSession('CodeGenAgent', 'p', context(claude, 'CodeGeneration'));
    const ended = await a.waitForAgent(session.id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toContain(`No conversation found with session ID: ${missing}`);
    expect(ended.error).toMatch(/error_during_execution/);
    await a.close();
  });
});
