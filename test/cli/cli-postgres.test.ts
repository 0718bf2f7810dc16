import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';
import { pipelineStore } from './fixtures.js';

describe('the CLI on PostgreSQL (--store)', () => {
  it('copies a file store in, reads it back, drives it, and prints the migration', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const url = `${PG_URL}#${schema}`;
    try {
      const files = join(dir, 'files');
      const { chain } = await pipelineStore(files);
      const copied = await runCli(['copy', '--from', files, '--to', url]);
      expect(copied.code, copied.stderr).toBe(0);
      expect(copied.stdout).toMatch(/copied 7 events \(4 sessions, 0 transcripts\) .*: identical/);
      const listed = JSON.parse((await runCli(['list', '--json', '--store', url])).stdout) as Array<{ id: string }>;
      expect(listed.map((s) => s.id)).toEqual(JSON.parse((await runCli(['list', '--json', '--dir', files])).stdout).map((s: { id: string }) => s.id));
      expect((await runCli(['lineage', chain[2]!.id, '--store', url])).stdout).toMatch(/CodeGenAgent[\s\S]*ReviewAgent[\s\S]*TestAgent/);
      const spawned = JSON.parse((await runCli(['spawn', 'X', '--purpose', 'p', '--issue', '1', '--phase', 'Test', '--worktree', '/w', '--json', '--store', url, '--dir', join(dir, 'cache')])).stdout);
      expect((await runCli(['complete', spawned.id, '--store', url, '--dir', join(dir, 'cache')])).code).toBe(0);
      expect(JSON.parse((await runCli(['stats', '--json', '--store', url])).stdout)).toMatchObject({ total: 5, completed: 2 });
      expect((await runCli(['copy', '--from', files, '--to', url])).code).toBe(4);
      expect((await runCli(['migrate', '--print', '--schema', 'team_a'])).stdout).toContain('CREATE TABLE IF NOT EXISTS team_a.events');
      expect((await runCli(['migrate', '--print', '--schema', 'bad;drop'])).code).toBe(4);
      expect((await runCli(['audit', '--store', url])).code).toBe(0);
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
  });
});
