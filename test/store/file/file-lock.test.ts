import { spawnSync } from 'node:child_process';
import { lstat, readFile, readlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLock } from '../../../src/store/file/file-lock.js';
import { processStartTime } from '../../../src/process/process-identity.js';
import { tempDir } from '../../helpers/fixtures.js';

describe('file lock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let path: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    path = join(dir, 'events.lock');
  });
  afterEach(() => cleanup());

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
});
