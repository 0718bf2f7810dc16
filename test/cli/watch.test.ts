import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { waitFor } from '../helpers/children.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

function watchStore(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ready = waitFor(() => err.includes('watching '), 10_000, 'watch to start');
  return { child, output: () => out, exited, ready };
}

describe('watch', () => {
  it('follows events appended by another process, decoded, and stops after --count', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = join(dir, 'store');
      const m = await SessionManager.open(store);
      const first = await m.spawnAgentSession('CodeGenAgent', 'p', contextFor());
      const watcher = watchStore(['--count', '3', '--dir', store]);
      const json = watchStore(['--count', '3', '--json', '--dir', store]);
      await Promise.all([watcher.ready, json.ready]);
      const child = await m.handoff(first.id, 'ReviewAgent', contextFor('Review'));
      await m.completeSession(child.id, { success: true, output: 'LGTM' });
      expect(await watcher.exited).toBe(0);
      expect(await json.exited).toBe(0);
      const lines = watcher.output().trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^\s*2 \S+ \S{8} CodeGenAgent\s+SessionHandedOff → ReviewAgent/);
      expect(lines[1]).toMatch(/ReviewAgent\s+SessionSpawned phase=Review/);
      expect(lines[2]).toMatch(/SessionCompleted result="LGTM"/);
      const events = json.output().trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
      expect(events.map((e) => [e.seq, e.type])).toEqual([[2, 'SessionHandedOff'], [3, 'SessionSpawned'], [4, 'SessionCompleted']]);
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('--json shows each event as it is appended, while the watch goes on', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = join(dir, 'store');
      const m = await SessionManager.open(store);
      const json = watchStore(['--json', '--dir', store]);
      await json.ready;
      const session = await m.spawnAgentSession('CodeGenAgent', 'p', contextFor());
      await waitFor(() => json.output().includes(session.id), 10_000, 'the spawn on stdout while watching');
      expect(JSON.parse(json.output().trim())).toMatchObject({ seq: 1, type: 'SessionSpawned', sessionId: session.id });
      json.child.kill('SIGINT');
      expect(await json.exited).toBe(0);
      await m.close();
    } finally {
      await cleanup();
    }
  });

  it('a damaged line appended while watching ends the watch with exit code 5, not as a clean stop', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = join(dir, 'store');
      const m = await SessionManager.open(store);
      await m.spawnAgentSession('A', 'p', contextFor());
      await m.close();
      const watcher = watchStore(['--dir', store]);
      await watcher.ready;
      await appendFile(join(store, 'events.ndjson'), '{"seq":2,"garbage":true}\n');
      expect(await watcher.exited).toBe(5);
    } finally {
      await cleanup();
    }
  });

  it('--from-start replays the log before following it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const store = join(dir, 'store');
      const m = await SessionManager.open(store);
      await m.spawnAgentSession('A', 'p', contextFor());
      await m.close();
      const watcher = watchStore(['--from-start', '--count', '1', '--dir', store]);
      await waitFor(() => watcher.output().includes('SessionSpawned'), 10_000, 'the first event');
      expect(await watcher.exited).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
