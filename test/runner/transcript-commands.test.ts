import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { realClaude } from '../helpers/real-claude.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

/** A file store whose one session ran the real CLI, so its conversation is stored. */
describe('stored conversations on the command line: transcript, audit, copy, report', () => {
  let claude: Awaited<ReturnType<typeof realClaude>>;
  let dir: string;
  let store: string;
  let session: Session;
  const schema = freshSchema();
  beforeAll(async () => {
    claude = await realClaude();
    ({ dir, store } = claude);
    claude.reply = () => ({ text: 'ASSISTANT-SAYS: implemented X' });
    const manager = await claude.open();
    session = await manager.waitForAgent((await manager.spawnAgentSession('CodeGenAgent', 'Implement X', { issueNumber: 7, currentPhase: 'CodeGeneration', worktreePath: dir })).id);
    await manager.close();
  });
  afterAll(async () => {
    await dropSchema(schema);
    await claude.teardown();
  });

  it('transcript prints the conversation, --json its entries, --raw its bytes; an unknown id is NOT_FOUND', async () => {
    const shown = await runCli(['transcript', session.id, '--dir', store]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^user: You are CodeGenAgent, working on GitHub issue #7 in the CodeGeneration phase.\nTask: Implement X$/m);
    expect(shown.stdout).toMatch(/^assistant: ASSISTANT-SAYS: implemented X$/m);
    const entries = JSON.parse((await runCli(['transcript', session.id, '--json', '--dir', store])).stdout) as Array<{ sessionId?: string }>;
    expect(entries.some((e) => e.sessionId === session.id)).toBe(true);
    expect((await runCli(['transcript', session.id, '--raw', '--dir', store])).stdout).toBe(await readFile(join(store, 'transcripts', `${session.id}.jsonl`), 'utf8'));
    expect((await runCli(['transcript', '6f3d9a21-0000-4000-8000-000000000000', '--dir', store])).code).toBe(3);
    expect((await runCli(['transcript', '../../etc/passwd', '--dir', store])).code).toBe(4);
  });

  it('copy carries the transcript to PostgreSQL and verifies it; transcript --store reads it there', async () => {
    const url = `${PG_URL}#${schema}`;
    const copied = await runCli(['copy', '--from', store, '--to', url]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/\(1 sessions, 1 transcripts\) .*: identical/);
    const there = await runCli(['transcript', session.id, '--store', url]);
    expect(there.stdout).toBe((await runCli(['transcript', session.id, '--dir', store])).stdout);
  });

  it('search finds what the agent said and names its session, on both stores; what nobody said finds nothing', async () => {
    for (const where of [['--dir', store], ['--store', `${PG_URL}#${schema}`]]) {
      const found = await runCli(['search', 'implemented   X', '--json', ...where]);
      expect(found.code, found.stderr).toBe(0);
      const page = JSON.parse(found.stdout) as { hits: unknown[]; searched: number; sessions: number };
      expect(page.hits).toEqual([expect.objectContaining({ sessionId: session.id, pipeline: session.id, issue: 7, agentName: 'CodeGenAgent', role: 'assistant', excerpt: expect.objectContaining({ match: 'implemented X' }) })]);
      expect(page).toMatchObject({ searched: 1, sessions: 1 });
      const text = await runCli(['search', 'implemented X', ...where]);
      expect(text.stdout).toContain(`${session.id}  CodeGenAgent  #7  CodeGeneration`);
      expect(text.stdout).toMatch(/message \d+, assistant: ASSISTANT-SAYS: implemented X/);
      expect(text.stderr).toContain('searched the 1 stored conversations of 1 sessions');
      const none = await runCli(['search', 'nobody said this', '--json', ...where]);
      expect(JSON.parse(none.stdout).hits).toEqual([]);
      expect((await runCli(['search', '*', ...where])).code).toBe(2);
    }
  });

  it('report shows the conversation', async () => {
    const out = join(dir, 'report.html');
    expect((await runCli(['report', '--out', out, '--dir', store])).code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain(`id="conversation-${session.id}"`);
    expect(html).toContain('ASSISTANT-SAYS: implemented X');
  });

  it('audit finds a stored transcript whose bytes changed, and one that is gone', async () => {
    expect((await runCli(['audit', '--dir', store])).code).toBe(0);
    const file = join(store, 'transcripts', `${session.id}.jsonl`);
    const original = await readFile(file);
    await appendFile(file, '{"type":"user","message":{"role":"user","content":"planted"}}\n');
    const changed = await runCli(['audit', '--json', '--dir', store]);
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.stdout).findings).toEqual([expect.objectContaining({ kind: 'transcript', sessionId: session.id, message: expect.stringContaining('is not the one recorded') })]);
    await rm(file);
    const missing = JSON.parse((await runCli(['audit', '--json', '--dir', store])).stdout);
    expect(missing.findings).toEqual([expect.objectContaining({ kind: 'transcript', message: expect.stringContaining('is missing') })]);
    await appendFile(file, original);
  });
});
