import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBigLog } from '../../bench/big-log.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';

describe('long work shows a progress bar on a terminal, and nothing on a pipe', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeBigLog(dir, 20_000, 0.25);
  });
  afterAll(() => cleanup());

  it.each([
    ['replay', ['replay'], 'replaying'],
    ['audit', ['audit'], 'auditing'],
    ['export', ['export', '--format', 'ndjson'], 'reading'],
  ])('%s: count, rate and time left when told it is a terminal; not a byte when piped', async (_name, args, label) => {
    const shown = await runCli([...args, '--dir', dir], { env: { ...process.env, MIYABI_PROGRESS: 'always' } });
    expect(shown.stderr).toMatch(new RegExp(`${label} \\[[#.]{24}\\] \\d+% [\\d.]+ MB of [\\d.]+ MB, [\\d.]+ MB/s, .* left`));
    const piped = await runCli([...args, '--dir', dir], { env: { ...process.env, MIYABI_PROGRESS: undefined } });
    expect(piped.stderr).toBe('');
    expect(piped.stdout.replace(/in \d+ ms/, '')).toBe(shown.stdout.replace(/in \d+ ms/, ''));
  });
});
