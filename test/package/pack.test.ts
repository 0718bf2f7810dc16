import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/fixtures.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund'], { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 });

describe('the package as users install it', () => {
  it('npm pack ships the built code; installed from the tarball, README\'s example and the CLI run', { timeout: 300_000 }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // A copy of the working tree as a clean clone has it: no dist/. npm pack must build it
      // (prepack), as npm publish would.
      const source = join(dir, 'source');
      const { stdout: listed } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
      for (const file of listed.split('\0').filter((f) => f.length > 0 && !f.startsWith('dist/'))) {
        await mkdir(dirname(join(source, file)), { recursive: true });
        await copyFile(join(root, file), join(source, file)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
      await symlink(join(root, 'node_modules'), join(source, 'node_modules'));
      const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], source);
      const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      const files = packed!.files.map((f) => f.path);
      expect(files).toContain('dist/src/index.js');
      expect(files).toContain('dist/src/cli/main.js');
      expect(files).toContain('dist/machines/session.machine.js');
      expect(files).toContain('machines/session.machine.ts');
      expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);

      const project = join(dir, 'user-project');
      await run('mkdir', ['-p', project]);
      await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
      // Dependencies come from npm's cache when they are there (npm ci filled it).
      await npm(['install', '--prefer-offline', '--ignore-scripts', join(dir, packed!.filename)], project);
      // Claude Code is an optional peer: a library user who runs no agent does not get it.
      expect(await readdir(join(project, 'node_modules', '@anthropic-ai')).catch(() => [])).not.toContain('claude-code');

      const readme = await readFile(join(root, 'README.md'), 'utf8');
      const block = /<!-- readme-example -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
      await writeFile(join(project, 'example.mjs'), block!);
      const example = await run(process.execPath, ['example.mjs'], { cwd: project });
      expect(example.stdout.trim().split('\n').slice(1)).toEqual(['feature X implemented', 'CodeGenAgent:HandedOff → ReviewAgent:Completed', '2 1 1']);

      const help = await run('npx', ['--no-install', 'miyabi-sessions', '--help'], { cwd: project });
      expect(help.stdout).toContain('miyabi-sessions');
      expect(help.stdout).toMatch(/replay/);
      // The installed CLI finds the machines' TypeScript sources in the package.
      await run('npx', ['--no-install', 'miyabi-sessions', 'machines', 'export', '--out', 'machines'], { cwd: project });
      expect(await readFile(join(project, 'machines', 'session.machine.ts'), 'utf8')).toContain('export const sessionMachine = setup({');
    } finally {
      await cleanup();
    }
  });
});
