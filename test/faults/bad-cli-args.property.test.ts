import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logBytes } from '../helpers/log-files.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { pipelineStore } from '../cli/fixtures.js';

/** Exit codes the CLI documents for a command line it refuses: 2 bad command line, 3 not found, 4 refused input. */
const REFUSED = [2, 3, 4];

const word = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '-1', '0', '1.5', 'NaN', '../x', 'a\u0001b', '--', '-x', '__proto__', 'Review', 'CodeGenAgent', 'x'.repeat(300)),
);

describe('bad command lines to the write commands (generated)', () => {
  let dir: string;
  let store: string;
  let cleanup: () => Promise<void>;
  let active: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    store = `${dir}/store`;
    active = (await pipelineStore(store)).active.id;
  });
  afterAll(() => cleanup());

  it('are refused with a documented exit code and an error, and append nothing', { timeout: 120_000 }, async () => {
    // [arguments, whether a line of this form can be valid at all]
    const line = (args: string[], canBeValid: boolean): [string[], boolean] => [args, canBeValid];
    const command = fc.oneof(
      // spawn with every option given, some malformed: only this form can happen to be valid
      fc.tuple(word, word, word, word).map(([agent, issue, phase, worktree]) => line(['spawn', agent, '--purpose', 'p', '--issue', issue, '--phase', phase, '--worktree', worktree], true)),
      fc.tuple(word).map(([agent]) => line(['spawn', agent, '--purpose', 'p'], false)),
      // complete / fail of a malformed or unknown id; a handoff with a malformed issue; an unknown option
      fc.tuple(fc.constantFrom('complete', 'fail'), word).map(([name, id]) => line([name, id, ...(name === 'fail' ? ['--error', 'x'] : [])], false)),
      fc.tuple(word, word).map(([agent, phase]) => line(['handoff', active, agent, '--phase', phase, '--issue', 'x'], false)),
      fc.tuple(word).map(([flag]) => line(['spawn', 'A', `--${flag}`, 'v'], false)),
    );
    await fc.assert(
      fc.asyncProperty(command, async ([args, canBeValid]) => {
        const before = await logBytes(store);
        const { code, stderr } = await runCli([...args, '--dir', store]);
        if (code === 0 && canBeValid) return;
        expect(REFUSED, `${JSON.stringify(args)} exited ${code}: ${stderr}`).toContain(code);
        expect(stderr.length).toBeGreaterThan(0);
        expect(await logBytes(store)).toBe(before);
      }),
      { numRuns: 25 },
    );
  });
});
