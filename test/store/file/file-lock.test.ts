import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { lstat, readFile, readlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileLock } from '../../../src/store/file/file-lock.js';
import { processStartTime } from '../../../src/process/process-identity.js';
import { tempDir } from '../../helpers/fixtures.js';

/**
 * After each file call that names the lock (`step`, told the call's name and path), the test
 * may step in as another process would between two of the locking process's system calls.
 */
const hook: { step: ((call: string, path: string) => Promise<void>) | null } = { step: null };

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const stepIn =
    <A extends unknown[], R>(name: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args);
      } finally {
        const step = hook.step;
        const path = String(name === 'symlink' || name === 'link' ? args[1] : args[0]);
        if (step !== null && path.includes('.lock')) {
          hook.step = null;
          try {
            await step(name, path);
          } finally {
            hook.step = step;
          }
        }
      }
    };
  const names = ['symlink', 'rename', 'link', 'unlink', 'readlink', 'readFile', 'lstat'] as const;
  return { ...real, ...Object.fromEntries(names.map((name) => [name, stepIn(name, real[name] as (...args: unknown[]) => Promise<unknown>)])) };
});

describe('file lock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let path: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    path = join(dir, 'events.lock');
  });
  afterEach(async () => {
    hook.step = null;
    await cleanup();
  });

  /** The holder a lock names: `L1:<pid>:<start time>:<token>:<host>`, the target of a symlink. */
  const current = async () => {
    const [, pid, , token] = (await readlink(path)).split(':');
    return { pid: Number(pid), token };
  };

  // Locks written by an earlier version were JSON files: they are still understood.
  const holder = (pid: number, startTime: string | null) =>
    JSON.stringify({ host: hostname(), pid, startTime, token: 'dead-token', acquiredAt: new Date().toISOString() });

  it('is a symlink whose target, kept in the inode, names the holder: taking it writes no data', async () => {
    const release = await new FileLock(path, 1000).acquire();
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
    expect((await readlink(path)).length).toBeLessThan(60);
    expect((await current()).pid).toBe(process.pid);
    await release();
  });

  it('respects a live holder and gives up with LOCKED after the timeout', async () => {
    const release = await new FileLock(path, 1000).acquire();
    await expect(new FileLock(path, 150).acquire()).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${process.pid}`) });
    await release();
    const again = await new FileLock(path, 150).acquire();
    await again();
  });

  it('takes over a lock whose holder process has exited', async () => {
    const child = spawnSync(process.execPath, ['-e', '0']);
    await writeFile(path, holder(child.pid!, null));
    const release = await new FileLock(path, 5000).acquire();
    expect((await current()).pid).toBe(process.pid);
    await release();
  });

  it('takes over a lock whose pid was recycled by another process', async () => {
    await writeFile(path, holder(process.pid, `${processStartTime(process.pid)}0`));
    const release = await new FileLock(path, 5000).acquire();
    expect((await current()).token).not.toBe('dead-token');
    await release();
  });

  it('waits on an empty lock file while it is fresh, and takes it over once it is old', async () => {
    await writeFile(path, '');
    await expect(new FileLock(path, 100).acquire()).rejects.toMatchObject({ code: 'LOCKED' });
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const release = await new FileLock(path, 5000).acquire();
    await release();
  });

  it('a release never removes a lock that another holder now owns', async () => {
    const release = await new FileLock(path, 1000).acquire();
    // Another holder took it over (wrongly): the path now holds its lock, not ours.
    await unlink(path);
    await writeFile(path, holder(process.pid, processStartTime(process.pid)));
    await release();
    expect(JSON.parse(await readFile(path, 'utf8')).token).toBe('dead-token');
  });

  // Taking over a dead holder, with other processes about.
  const holderToken = async () => (await fs.readlink(path)).split(':')[3];
  const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

  it('a process that read the dead holder late never moves the live lock that replaced it', async () => {
    // D died holding the lock. B reads it, and right then A takes it over and holds it.
    await fs.writeFile(path, JSON.stringify({ host: hostname(), pid: deadPid(), startTime: null, token: 'deadholder' }));
    let tokenA: string | undefined;
    let releaseA: (() => Promise<void>) | null = null;
    const seen: (string | undefined)[] = [];
    let cTook = false;
    hook.step = async (call) => {
      if (releaseA === null) {
        if (call !== 'readFile') return;
        releaseA = await new FileLock(path, 1000).acquire();
        tokenA = await holderToken();
        return;
      }
      // Between any two of B's later steps, C tries for the lock, and the path must still be A's.
      seen.push(await holderToken().catch(() => undefined));
      const releaseC = await new FileLock(path, 20).acquire().catch(() => null);
      if (releaseC !== null) cTook = true;
    };
    await expect(new FileLock(path, 300).acquire()).rejects.toMatchObject({ code: 'LOCKED' });
    hook.step = null;

    expect(tokenA).toBeDefined();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((token) => token !== tokenA)).toEqual([]);
    expect(cTook).toBe(false);
    expect(await holderToken()).toBe(tokenA);
    await releaseA!();
  });

  it('processes racing over one dead holder: exactly one holds at a time', async () => {
    for (let round = 0; round < 15; round += 1) {
      await fs.writeFile(path, JSON.stringify({ host: hostname(), pid: deadPid(), startTime: null, token: `dead${round}` }));
      let holding = 0;
      let most = 0;
      await Promise.all(
        [0, 1, 2].map(async () => {
          const release = await new FileLock(path, 5000).acquire();
          holding += 1;
          most = Math.max(most, holding);
          await new Promise((resolve) => setTimeout(resolve, 2));
          holding -= 1;
          await release();
        }),
      );
      expect(most).toBe(1);
      await fs.rm(path, { force: true });
    }
  });

  it('a marker left by a process that died while taking over is itself taken over', async () => {
    await fs.writeFile(path, JSON.stringify({ host: hostname(), pid: deadPid(), startTime: null, token: 'deadholder' }));
    await fs.symlink(`L1:${deadPid()}:-:deadmarker:${hostname()}`, `${path}.takeover-deadholder`);
    const release = await new FileLock(path, 5000).acquire();
    expect(await holderToken()).not.toBe('deadholder');
    await release();
    expect(await fs.readdir(dir)).toEqual([]);
    // A marker nobody can read, once it is old, is a dead lock as an unreadable lock is.
    await fs.writeFile(path, JSON.stringify({ host: hostname(), pid: deadPid(), startTime: null, token: 'deadholder' }));
    await fs.writeFile(`${path}.takeover-deadholder`, '');
    await expect(new FileLock(path, 100).acquire()).rejects.toMatchObject({ code: 'LOCKED' });
    const old = new Date(Date.now() - 60_000);
    await utimes(`${path}.takeover-deadholder`, old, old);
    await (await new FileLock(path, 5000).acquire())();
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
