import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fixtures.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('the library example runs against the built package and prints what the README says', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const block = /<!-- readme-example -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const { dir, cleanup } = await tempDir();
    try {
      const entry = pathToFileURL(join(root, 'dist/src/index.js')).href;
      await writeFile(join(dir, 'example.mjs'), block!.replace("'miyabi-session-manager'", `'${entry}'`));
      const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: dir });
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^Handoff from session [0-9a-f-]{36}$/);
      expect(lines.slice(1)).toEqual(['feature X implemented', 'CodeGenAgent:HandedOff → ReviewAgent:Completed', '2 1 1']);
      expect(JSON.parse(await readFile(join(dir, '.ai/sessions/sessions.json'), 'utf8')).version).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('the quick start names the scripts package.json has, and .ci/run runs the same test command', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toMatch(/^npm test\b/m);
    expect(pkg.scripts['demo']).toBeDefined();
    expect(await readFile(join(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it('the demo runs a CodeGen → Review → Test → Deploy pipeline of real Claude Code agents and prints its lineage and stats', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // As a user runs it: from a project folder, with the default (relative) store .ai/sessions.
      const { stdout } = await run(process.execPath, [join(root, 'dist/examples/demo.js')], { cwd: dir });
      expect(stdout).toContain('pipeline Completed');
      expect(stdout).toMatch(/CodeGenAgent \[HandedOff\][\s\S]*ReviewAgent \[HandedOff\][\s\S]*TestAgent \[HandedOff\][\s\S]*DeployAgent \[Completed\]/);
      expect(stdout).toContain('ReviewAgent: step done for issue #42 (scripted reply)');
      expect(stdout).toMatch(/stats: 4 sessions, 0 active, 3 handed off, 1 completed, 0 failed · cost \$0\.\d+ · 4 turns/);
    } finally {
      await cleanup();
    }
  });
});

describe('README documents the CLI', () => {
  it('every command has an example in the README', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const { COMMANDS } = await import('../src/cli/commands/index.js');
    for (const command of COMMANDS) {
      const name = command.name === 'machines' ? 'machines export' : command.name;
      expect(readme, `README shows "miyabi-sessions ${name}"`).toContain(`$ miyabi-sessions ${name}`);
    }
  });
});
