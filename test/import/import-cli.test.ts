import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionError, SessionManager, importOriginalStore } from '../../src/index.js';
import { runCli, snapshotDir } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { README_EXAMPLE, originalFileText } from '../helpers/original-format.js';

const [CODEGEN, REVIEW] = README_EXAMPLE.map((r) => r.id) as [string, string];

/** A project folder holding the original README's example at `.ai/sessions/sessions.json`. */
async function projectWithOriginal(): Promise<{ cwd: string; store: string; file: string; text: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const store = join(dir, '.ai', 'sessions');
  const text = originalFileText(README_EXAMPLE);
  await mkdir(store, { recursive: true });
  await writeFile(join(store, 'sessions.json'), text);
  return { cwd: dir, store, file: join(store, 'sessions.json'), text, cleanup };
}

describe('a store written by the original crate', () => {
  it('before the import, list, stats, spawn, audit and SessionManager.open stop with FOREIGN_STORE and leave the file as it was', async () => {
    const project = await projectWithOriginal();
    try {
      const before = await snapshotDir(project.cwd);
      for (const args of [['list'], ['stats'], ['spawn', 'X', '--purpose', 'p', '--issue', '1', '--phase', 'Test', '--worktree', '/w'], ['audit'], ['lineage', REVIEW], ['show', REVIEW], ['at', '1'], ['watch', '--from-start', '--count', '1'], ['replay'], ['export', '--format', 'ndjson'], ['report']]) {
        const run = await runCli(args, { cwd: project.cwd });
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(4);
        expect(run.stderr).toContain('FOREIGN_STORE');
        expect(run.stderr).toContain('miyabi-sessions import');
      }
      const opened = await SessionManager.open(project.store).then(() => null, (error: unknown) => error);
      expect(opened).toBeInstanceOf(SessionError);
      expect((opened as SessionError).code).toBe('FOREIGN_STORE');
      expect((opened as SessionError).message).toContain(project.file);
      expect(await snapshotDir(project.cwd)).toEqual(before);
    } finally {
      await project.cleanup();
    }
  });

  it('the original README\'s example imports; list, lineage and stats show its two sessions; the original is kept byte for byte; a second import refuses', async () => {
    const project = await projectWithOriginal();
    try {
      const imported = await runCli(['import'], { cwd: project.cwd });
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain('as .ai/sessions/sessions.original.json');
      expect(imported.stdout).toContain('imported 2 sessions (1 Active, 1 HandedOff)');
      expect(await readFile(join(project.store, 'sessions.original.json'), 'utf8')).toBe(project.text);

      const listed = JSON.parse((await runCli(['list', '--json'], { cwd: project.cwd })).stdout) as Array<{ id: string; status: string; agentName: string; createdAt: string; imported?: boolean }>;
      expect(listed.map((s) => [s.id, s.agentName, s.status, s.createdAt, s.imported])).toEqual([
        [CODEGEN, 'CodeGenAgent', 'HandedOff', '2025-10-25T10:30:00Z', true],
        [REVIEW, 'ReviewAgent', 'Active', '2025-10-25T10:35:00Z', true],
      ]);
      const lineage = await runCli(['lineage', REVIEW], { cwd: project.cwd });
      expect(lineage.stdout).toMatch(/CodeGenAgent \[HandedOff\][\s\S]*ReviewAgent \[Active\]/);
      expect(JSON.parse((await runCli(['stats', '--json'], { cwd: project.cwd })).stdout)).toMatchObject({ total: 2, active: 1, handedOff: 1, completed: 0, failed: 0 });
      const audit = await runCli(['audit'], { cwd: project.cwd });
      expect(audit.code, audit.stdout).toBe(0);
      expect(audit.stdout).toContain('2 sessions (2 imported from the original, not observed)');

      const again = await runCli(['import'], { cwd: project.cwd });
      expect(again.code).toBe(4);
      expect(again.stderr).toContain("this library's own sessions.json");
      const fromCopy = await runCli(['import', '--from', '.ai/sessions/sessions.original.json'], { cwd: project.cwd });
      expect(fromCopy.code).toBe(4);
      expect(fromCopy.stderr).toContain(`session ${CODEGEN} was imported already`);
      // The store goes on as any other: the imported Active session can be completed.
      expect((await runCli(['complete', REVIEW], { cwd: project.cwd })).code).toBe(0);
    } finally {
      await project.cleanup();
    }
  });

  it('an import cut short after its append (the original still at sessions.json) is finished by running it again', async () => {
    const project = await projectWithOriginal();
    try {
      await copyFile(project.file, join(project.cwd, 'saved.json'));
      await importOriginalStore({ dir: project.store });
      // As if the process died before it wrote the checkpoint over the original.
      await copyFile(join(project.cwd, 'saved.json'), project.file);
      expect((await runCli(['list'], { cwd: project.cwd })).code).toBe(4);
      const report = await importOriginalStore({ dir: project.store });
      expect(report.resumed).toBe(true);
      expect(JSON.parse((await runCli(['stats', '--json'], { cwd: project.cwd })).stdout)).toMatchObject({ total: 2 });
    } finally {
      await project.cleanup();
    }
  });

  it('spawn works without --issue or --worktree, as the original allows, and every view copes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const spawned = await runCli(['spawn', 'TestAgent', '--purpose', 'p', '--phase', 'Test', '--json', '--dir', dir]);
      expect(spawned.code, spawned.stderr).toBe(0);
      const session = JSON.parse(spawned.stdout) as { id: string; context: { issueNumber: null; worktreePath: null } };
      expect(session.context).toMatchObject({ issueNumber: null, worktreePath: null });
      expect((await runCli(['list', '--dir', dir])).stdout).toMatch(/TestAgent\s+Active\s+Test\s+—/);
      expect((await runCli(['show', session.id, '--dir', dir])).stdout).toMatch(/issue\s+—[\s\S]*worktree\s+—/);
      expect((await runCli(['export', '--format', 'mermaid', '--dir', dir])).code).toBe(0);
      expect((await runCli(['handoff', session.id, 'DeployAgent', '--phase', 'CICD', '--dir', dir])).code).toBe(0);
      const file = JSON.parse(await readFile(join(dir, 'sessions.json'), 'utf8')) as { sessions: Array<{ context: Record<string, unknown> }> };
      for (const record of file.sessions) expect(record.context).toMatchObject({ issue_number: null, worktree_path: null });
    } finally {
      await cleanup();
    }
  });
});
