import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { v4 as uuidv4 } from 'uuid';
import { SessionError, storageError } from '../../errors.js';
import { currentProcess, isProcessGone, type ProcessIdentity } from './process-identity.js';

interface LockRecord extends ProcessIdentity {
  token: string;
  acquiredAt: string;
}

/** How long a lock file may stay empty or unreadable before it counts as left by a crash. */
const UNREADABLE_GRACE_MS = 5_000;

/**
 * A cross-process mutex on one file, taken with an exclusive create (`O_EXCL`).
 * A lock whose holder died (this host, pid gone or recycled) is taken over; a live holder
 * is waited for until `timeoutMs`, then `LOCKED` is thrown.
 */
export class FileLock {
  private readonly me = currentProcess();

  constructor(
    readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  /** Takes the lock; resolves to the function that releases it. */
  async acquire(): Promise<() => Promise<void>> {
    const token = uuidv4();
    const deadline = Date.now() + this.timeoutMs;
    let pause = 1;
    for (;;) {
      if (await this.tryCreate(token)) return () => this.release(token);
      const holder = await this.readHolder();
      if (holder === 'gone') continue;
      if (holder === 'unreadable' ? await this.unreadableTooLong() : isProcessGone(holder)) {
        await this.takeOver(holder === 'unreadable' ? null : holder.token);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder === 'unreadable' ? 'an unknown process' : `pid ${holder.pid} on ${holder.host}`;
        throw new SessionError('LOCKED', `${this.path} is held by ${who}; gave up after ${this.timeoutMs} ms`);
      }
      // Short, jittered waits: a long back-off lets a busy writer take the lock again and again.
      await sleep(pause * (0.5 + Math.random()));
      pause = Math.min(pause * 2, 4);
    }
  }

  private async tryCreate(token: string): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw storageError('creating lock', this.path, error);
    }
    const record: LockRecord = { ...this.me, token, acquiredAt: new Date().toISOString() };
    try {
      await handle.writeFile(JSON.stringify(record));
    } catch (error) {
      // An empty lock file would make every other process wait out the unreadable-lock grace.
      await handle.close();
      await unlink(this.path).catch(() => undefined);
      throw storageError('creating lock', this.path, error);
    }
    await handle.close();
    return true;
  }

  private async readHolder(): Promise<LockRecord | 'gone' | 'unreadable'> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LockRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      return 'unreadable';
    }
  }

  private async unreadableTooLong(): Promise<boolean> {
    try {
      return Date.now() - (await stat(this.path)).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }

  /**
   * Removes a dead holder's lock without ever removing a live one: the file is first renamed
   * aside, then checked to be the dead holder's; if another process took the lock in between,
   * its file is linked back (link fails rather than overwrite a newer lock).
   */
  private async takeOver(deadToken: string | null): Promise<void> {
    const aside = `${this.path}.stale-${uuidv4()}`;
    try {
      await rename(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw storageError('taking over stale lock', this.path, error);
    }
    const moved = await readFile(aside, 'utf8').then((t) => safeToken(t), () => null);
    if (moved !== deadToken) await link(aside, this.path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
  }

  private async release(token: string): Promise<void> {
    const holder = await this.readHolder();
    // Only remove our own lock: if it was (wrongly) taken over, the new holder keeps it.
    if (holder !== 'gone' && holder !== 'unreadable' && holder.token === token) {
      await unlink(this.path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError('releasing lock', this.path, error);
      });
    }
  }
}

function safeToken(text: string): string | null {
  try {
    return (JSON.parse(text) as LockRecord).token ?? null;
  } catch {
    return null;
  }
}
