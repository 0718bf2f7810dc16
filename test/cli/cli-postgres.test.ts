import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';
import { pipelineStore } from './fixtures.js';
import { PostgresEventStore, SessionManager } from '../../src/index.js';
import { contextFor } from '../helpers/fixtures.js';

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

  it('answers every read command from its sessions table, as the same store in files answers it', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const url = `${PG_URL}#${schema}`;
    try {
      const files = join(dir, 'files');
      const { chain, active } = await pipelineStore(files);
      expect((await runCli(['copy', '--from', files, '--to', url])).code).toBe(0);
      const both = async (args: string[]) => {
        const fromFiles = await runCli([...args, '--dir', files]);
        const fromTable = await runCli([...args, '--store', url]);
        expect(fromTable.code, fromTable.stderr).toBe(fromFiles.code);
        expect(fromTable.stderr).toBe('');
        return { files: fromFiles.stdout, table: fromTable.stdout };
      };
      for (const args of [
        ['list', '--json'],
        ['list', '--status', 'HandedOff,Active', '--order', 'newest', '--json'],
        ['list', '--agent', 'ReviewAgent', '--issue', '42'],
        ['list', '--text', 'DEPLOY', '--all', '--json'],
        ['list', '--pipeline', chain[0]!.id, '--order', 'failures-first', '--all'],
        ['stats', '--json'],
        ['stats'],
        ['show', chain[1]!.id, '--json'],
        ['show', active.id],
        ['lineage', chain[2]!.id, '--json'],
        ['lineage', chain[0]!.id],
        ['export', '--format', 'mermaid'],
        ['export', '--format', 'dot'],
      ]) {
        const { files: want, table: got } = await both(args);
        // JSON equal as data (a record read from sessions.json lists its keys in the file's order).
        if (args.includes('--json')) expect(parseJsonOutput(got), args.join(' ')).toEqual(parseJsonOutput(want));
        else expect(got, args.join(' ')).toBe(want);
      }
      // The original format's sessions as the files' (the checkpoint's position is each store's own).
      const exported = await both(['export']);
      expect(JSON.parse(exported.table).sessions).toEqual(JSON.parse(exported.files).sessions);
      expect(JSON.parse(exported.table).checkpoint).toMatchObject({ seq: 7, ended_stats: JSON.parse(exported.files).checkpoint.ended_stats });
      // A page's cursor is the store's own: the table's leads on, a file store's is refused.
      const first = await runCli(['list', '--limit', '1', '--json', '--store', url]);
      const next = /--after (\S+)/.exec(first.stderr)![1]!;
      expect(JSON.parse((await runCli(['list', '--limit', '1', '--after', next, '--json', '--store', url])).stdout)[0].id).toBe(chain[1]!.id);
      const fileCursor = /--after (\S+)/.exec((await runCli(['list', '--limit', '1', '--order', 'spawn', '--dir', files])).stderr)![1]!;
      expect((await runCli(['list', '--limit', '1', '--after', fileCursor, '--store', url])).code).toBe(4);
      const report = join(dir, 'report.html');
      expect((await runCli(['report', '--out', report, '--store', url])).stdout).toMatch(/2 pipelines, 4 sessions/);
      // Reads are SQL over the table, not a replay: an event of another session damaged by hand
      // stops a replay (`at`), not them.
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`UPDATE ${schema}.events SET event = '{"seq":1,"type":"Nonsense"}' WHERE session_id = $1 AND version = 1`, [active.id]);
      } finally {
        await client.end();
      }
      expect((await runCli(['at', '6', '--store', url])).code).not.toBe(0);
      expect(JSON.parse((await runCli(['stats', '--json', '--store', url])).stdout)).toMatchObject({ total: 4, completed: 1, active: 1 });
      expect(JSON.parse((await runCli(['list', '--status', 'HandedOff', '--json', '--store', url])).stdout)).toHaveLength(2);
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
    // About 30 CLI processes, each starting node and connecting: 30 s on an idle machine, so the default 60 s is too tight with both cores busy.
  }, 180_000);

  it('folds what is new into its sessions table before a read; a role that may only read is told how far behind it stands', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const url = `${PG_URL}#${schema}`;
    const readerUrl = new URL(PG_URL);
    readerUrl.username = 'miyabi_test_reader';
    readerUrl.password = '';
    const reader = `${readerUrl.toString()}#${schema}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    let writer: SessionManager | null = null;
    try {
      const first = await SessionManager.open(join(dir, 'a'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
      const a = await first.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor('CodeGeneration'));
      await first.close();
      await admin.query(`DO $$ BEGIN CREATE ROLE miyabi_test_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
      await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO miyabi_test_reader; GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO miyabi_test_reader`);
      // A manager still running has appended a handoff the table has not folded.
      writer = await SessionManager.open(join(dir, 'b'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
      await writer.handoff(a.id, 'ReviewAgent', contextFor('Review'));
      const behind = await runCli(['list', '--json', '--store', reader]);
      expect(behind.stderr).toMatch(/sessions table of .* is 2 events behind its log and could not be brought level \(.*permission denied/);
      expect(JSON.parse(behind.stdout).map((s: { status: string }) => s.status)).toEqual(['Active']);
      // A role that may write folds it (migrate, or any read); the handoff is folded on the spawn the table held.
      expect((await runCli(['migrate', '--store', url])).stdout).toMatch(/2 events folded into the sessions table/);
      const level = await runCli(['list', '--json', '--store', reader]);
      expect(level.stderr).toBe('');
      expect(JSON.parse(level.stdout).map((s: { status: string }) => s.status)).toEqual(['HandedOff', 'Active']);
      await writer.completeSession((await writer.listActiveSessions())[0]!.id);
      const read = await runCli(['stats', '--json', '--store', url]);
      expect(read.stderr).toBe('');
      expect(JSON.parse(read.stdout)).toMatchObject({ total: 2, handedOff: 1, completed: 1 });
      expect((await runCli(['migrate', '--store', url])).stdout).not.toMatch(/folded/);
    } finally {
      await writer?.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      await cleanup();
    }
  });
});

/** A command's JSON output: one document, or one a line (`--all --json`). */
function parseJsonOutput(text: string): unknown {
  // How a store frames its transactions (`txSize`) is its own: a copy commits in other batches.
  const withoutFrames = (_key: string, value: unknown) => (_key === 'txSize' ? undefined : value);
  try {
    return JSON.parse(text, withoutFrames);
  } catch {
    return text.trim().split('\n').map((line) => JSON.parse(line, withoutFrames) as unknown);
  }
}
