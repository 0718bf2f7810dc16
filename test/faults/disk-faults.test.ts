import { execFileSync } from 'node:child_process';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, isSessionError } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { childScript } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { spawn } from 'node:child_process';
import { v4 as uuidv4 } from 'uuid';

const isRoot = process.getuid?.() === 0;
const context = { issueNumber: 1, currentPhase: 'Test' as const, worktreePath: '/w' };

describe.runIf(isRoot)('disk full and permission denied (needs root: a small tmpfs, and a child run as nobody)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('ENOSPC during appends and checkpoints: the call rejects with STORAGE, nothing half-written stays, the store works again once space is back', async () => {
    const mountPoint = join(dir, 'small');
    await mkdir(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
    try {
      const store = join(mountPoint, 'store');
      // Eager actors: one is built while each spawn's write is in flight, and must not outlive a refusal.
      const manager = await SessionManager.open(store, { checkpointIdleMs: -1, checkpointEvery: Number.MAX_SAFE_INTEGER, actors: 'eager' });
      await manager.checkpoint();
      const sessionsBefore = await readFile(join(store, 'sessions.json'), 'utf8');
      // Fill the disk, leaving room for a few dozen events.
      await writeFile(join(mountPoint, 'filler'), Buffer.alloc(200 * 1024)).catch(() => undefined);
      const acked: string[] = [];
      let refusal: unknown;
      for (let i = 0; i < 10_000 && refusal === undefined; i += 1) {
        try {
          acked.push((await manager.spawnAgentSession('A', `fill ${i} ${'x'.repeat(400)}`, context)).id);
        } catch (error) {
          refusal = error;
        }
      }
      expect(isSessionError(refusal, 'STORAGE')).toBe(true);
      expect((refusal as Error).message).toMatch(/ENOSPC/);
      // The actor built while the refused write was in flight must not become the session's.
      const retried = uuidv4();
      const liveActors = () => (manager as unknown as { actors: { size: number } }).actors.size;
      const before = liveActors();
      await expect(manager.spawnAgentSession('A', `retry ${'x'.repeat(400)}`, context, { sessionId: retried })).rejects.toMatchObject({ code: 'STORAGE' });
      expect(liveActors()).toBe(before);
      expect(manager.actorOf(retried)).toBeUndefined();
      expect(await manager.getSession(retried)).toBeUndefined();
      await expect(manager.checkpoint()).rejects.toMatchObject({ code: 'STORAGE' });
      expect(await readFile(join(store, 'sessions.json'), 'utf8')).toBe(sessionsBefore);
      expect((await readdir(store)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect((await auditLog(store)).findings).toEqual([]);

      await rm(join(mountPoint, 'filler'));
      const after = await manager.spawnAgentSession('A', 'space is back', context);
      expect(manager.actorOf(after.id)?.getSnapshot().value).toBe('active');
      await manager.checkpoint();
      await manager.close();
      const reopened = await SessionManager.open(store);
      const ids = new Set((await reopened.listSessions()).map((s) => s.id));
      for (const id of [...acked, after.id]) expect(ids.has(id)).toBe(true);
      expect(ids.size).toBe(acked.length + 1);
      await reopened.close();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  it('EACCES during an append and a checkpoint: STORAGE errors, and the store is usable once permission is back', async () => {
    const store = join(dir, 'store');
    await mkdir(store);
    await chown(dir, 65534, 65534);
    await chown(store, 65534, 65534);
    const child = spawn(process.execPath, [childScript('permission-writer'), store], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const result = JSON.parse(out) as { denied: string; checkpoint: string; after: string };
    expect(result.denied).toMatch(/^STORAGE: .*EACCES/);
    expect(result.checkpoint).toMatch(/^STORAGE: .*EACCES/);
    expect(result.after).toBe('ok');
    const reopened = await SessionManager.open(store);
    expect((await reopened.listSessions()).map((s) => s.purpose)).toEqual(['before', 'after']);
    await reopened.close();
  });
});
