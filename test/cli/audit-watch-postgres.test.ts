import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, PostgresEventStore, SessionManager } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/children.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/stores.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

describe('audit and watch on PostgreSQL (--store)', () => {
  it('audit --store checks the same rules as on files: a clean store passes, a transition inserted by hand with SQL is found', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const url = `${PG_URL}#${schema}`;
    try {
      const manager = await SessionManager.open(join(dir, 'cache'), { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
      const root = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
      const child = await manager.handoff(root.id, 'ReviewAgent', contextFor('Review'));
      await manager.close();
      const clean = await runCli(['audit', '--store', url]);
      expect(clean.code, clean.stdout + clean.stderr).toBe(0);
      expect(clean.stdout).toContain('3 events, 2 sessions: no findings');

      // A Completed for the HandedOff root, written behind the library's back.
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      const event = { seq: 4, id: uuidv4(), type: 'SessionCompleted', sessionId: root.id, timestamp: new Date().toISOString(), schemaVersion: EVENT_SCHEMA_VERSION, data: {} };
      await client.query(`INSERT INTO ${schema}.events (seq, id, session_id, version, type, event) VALUES (4, $1, $2, 3, 'SessionCompleted', $3)`, [event.id, root.id, JSON.stringify(event)]);
      await client.end();
      const found = await runCli(['audit', '--json', '--store', url]);
      expect(found.code).toBe(1);
      const report = JSON.parse(found.stdout) as { findings: Array<{ kind: string; line: number; sessionId: string; message: string }> };
      expect(report.findings).toEqual([expect.objectContaining({ kind: 'transition', line: 4, sessionId: root.id, message: expect.stringContaining('is HandedOff') })]);
      expect(child.parentSession).toBe(root.id);
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
  });

  it('watch --store shows an append made by another process', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const url = `${PG_URL}#${schema}`;
    const store = () => new PostgresEventStore({ connectionString: PG_URL, schema });
    try {
      const manager = await SessionManager.open(join(dir, 'a'), { store: store() });
      const first = await manager.spawnAgentSession('CodeGenAgent', 'p', contextFor());
      const watcher = spawn(process.execPath, [CLI, 'watch', '--count', '2', '--store', url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      watcher.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      watcher.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      const exited = new Promise<number | null>((resolve) => watcher.on('close', resolve));
      await waitFor(() => err.includes('watching '), 20_000, 'watch to start');
      // Another process: the CLI, as a second writer on the same schema.
      const other = await runCli(['handoff', first.id, 'ReviewAgent', '--phase', 'Review', '--store', url, '--dir', join(dir, 'b')]);
      expect(other.code, other.stderr).toBe(0);
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      expect(lines[0]).toMatch(/^\s*2 \S+ \S{8} CodeGenAgent\s+SessionHandedOff → ReviewAgent/);
      expect(lines[1]).toMatch(/ReviewAgent\s+SessionSpawned phase=Review/);
      await manager.close();
    } finally {
      await dropSchema(schema);
      await cleanup();
    }
  });
});
