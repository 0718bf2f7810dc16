import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { FileTranscripts } from '../../src/store/file/file-transcripts.js';
import { runCli } from '../helpers/cli.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';

/** What an agent's output may hold that a terminal would act on. */
const HOSTILE = [
  '\u001b]0;pwned\u0007', // retitles the terminal
  '\u001b[2J', // clears it
  '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\', // plants a hyperlink
  '\u009b31m', // an 8-bit CSI
  '\u202eexe.txt', // reverses what follows
  'bell\u0007 back\b cr\r',
].join(' ');

/** Any byte or character a terminal acts on, but newline. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('untrusted text is printed escaped', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let failed: string;
  let parent: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const m = await SessionManager.open(dir);
    const a = await m.spawnAgentSession('CodeGenAgent', `purpose ${HOSTILE}`, contextFor('CodeGeneration'));
    parent = a.id;
    const b = await m.handoff(a.id, 'ReviewAgent', contextFor('Review'), { result: { success: true, output: `result ${HOSTILE}` } });
    await m.failSession(b.id, `error ${HOSTILE}`);
    failed = b.id;
    await m.close();
    const line = JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: `said ${HOSTILE}` }] } });
    await new FileTranscripts(dir).save(failed, Buffer.from(`${line}\n`));
  });
  afterAll(() => cleanup());

  it.each([
    ['list', () => ['list', '--text', 'purpose']],
    ['list --all', () => ['list', '--all']],
    ['show', () => ['show', failed]],
    ['show (parent)', () => ['show', parent]],
    ['lineage', () => ['lineage', failed]],
    ['transcript', () => ['transcript', failed]],
    ['search', () => ['search', 'said']],
    ['watch', () => ['watch', '--from-start', '--count', '4']],
  ])('%s shows no control character raw', async (_name, args) => {
    const { code, stdout, stderr } = await runCli([...args(), '--dir', dir]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stderr).not.toMatch(RAW_CONTROL);
  });

  it('show spells each one out, so that it can be read', async () => {
    const { stdout } = await runCli(['show', failed, '--dir', dir]);
    expect(stdout).toContain('\\u001b]0;pwned\\u0007');
    expect(stdout).toContain('\\u009b31m');
    expect(stdout).toContain('\\u202eexe.txt');
    expect(stdout).toContain('back\\u0008 cr\\r');
  });

  it('--json stays exact JSON: parsed, it gives back every character', async () => {
    for (const args of [['show', failed, '--json'], ['list', '--json'], ['list', '--all', '--json'], ['watch', '--from-start', '--count', '4', '--json']]) {
      const { stdout } = await runCli([...args, '--dir', dir]);
      expect(stdout).not.toMatch(RAW_CONTROL);
      expect(stdout).not.toMatch(/[\u2028\u2029]/);
      const text = stdout.trim();
      const values = text.startsWith('[') || text.startsWith('{\n') ? [JSON.parse(text)] : text.split('\n').map((l) => JSON.parse(l) as unknown);
      expect(JSON.stringify(values)).toContain(JSON.stringify(HOSTILE).slice(1, -1));
    }
  });

  it('search --json gives the excerpt exactly, as JSON a terminal cannot act on', async () => {
    const { stdout } = await runCli(['search', 'said', '--json', '--dir', dir]);
    expect(stdout).not.toMatch(RAW_CONTROL);
    const page = JSON.parse(stdout) as { hits: Array<{ sessionId: string; excerpt: { match: string; after: string } }> };
    expect(page.hits).toEqual([expect.objectContaining({ sessionId: failed, excerpt: expect.objectContaining({ match: 'said' }) })]);
    expect(HOSTILE.startsWith(page.hits[0]!.excerpt.after.slice(1).replace(/…$/, ''))).toBe(true);
  });

  it('an error message naming bad input is escaped too', async () => {
    const { code, stderr } = await runCli(['list', '--agent', `x\u001b[2J`, '--dir', dir]);
    expect(code).toBe(2);
    expect(stderr).not.toMatch(RAW_CONTROL);
  });
});
