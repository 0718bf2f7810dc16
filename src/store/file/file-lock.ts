import { lstat, readFile, readlink, symlink, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v4 as uuidv4 } from 'uuid';
import { SessionError, storageError } from '../../errors.js';
import { diskFaults } from './disk-faults.js';
import { currentProcess, hostName, isProcessGone, type ProcessIdentity } from '../../process/process-identity.js';

interface LockRecord extends ProcessIdentity {
  token: string;
}

/** Longest symlink target ext4 keeps inside the inode (a "fast" symlink: no data block). */
const INLINE_TARGET = 59;

/**
 * The holder as a symlink target: `L1:<pid>:<start time>:<token>:<host>`, short enough to live in
 * the inode, so taking the lock writes no data page (a trickle of appends would otherwise write
 * a page per append for the lock alone). A long host name is cut and tagged with its hash.
 */
function encodeHolder(record: LockRecord): string {
  const head = `L1:${record.pid}:${record.startTime ?? '-'}:${record.token}:`;
  return head + encodeHost(record.host, INLINE_TARGET - head.length);
}

function encodeHost(host: string, room: number): string {
  if (host.length <= room) return host;
  return `${host.slice(0, Math.max(0, room - 9))}~${createHash('sha256').update(host).digest('hex').slice(0, 8)}`;
}

function decodeHolder(target: string): LockRecord | null {
  const match = /^L1:(\d+):(\d+|-):([0-9a-z]+):(.*)$/.exec(target);
  if (match === null) return null;
  const head = target.length - match[4]!.length;
  // Our own host, however it was cut, reads back as its name: isProcessGone compares names.
  const host = match[4] === encodeHost(hostName(), INLINE_TARGET - head) ? hostName() : match[4]!;
  return { host, pid: Number(match[1]), startTime: match[2] === '-' ? null : match[2]!, token: match[3]! };
}

/** How long a lock file may stay empty or unreadable before it counts as left by a crash. */
const UNREADABLE_GRACE_MS = 5_000;

/**
 * A cross-process mutex on one path, taken by creating a symlink there (which, like an `O_EXCL`
 * create, fails if the path exists) whose target names the holder.
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
    const token = newToken();
    const deadline = Date.now() + this.timeoutMs;
    let pause = 1;
    for (;;) {
      if (await this.tryCreate(token)) return () => this.release(token);
      const holder = await this.readHolder();
      if (holder === 'gone') continue;
      if ((await this.isDead(holder)) && (await this.takeOver(await this.deadLock(holder)))) continue;
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
    try {
      diskFaults.allow('lock.create');
      await symlink(encodeHolder({ ...this.me, token }), this.path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw storageError('creating lock', this.path, error);
    }
  }

  private async readHolder(): Promise<LockRecord | 'gone' | 'unreadable'> {
    try {
      return decodeHolder(await readlink(this.path)) ?? 'unreadable';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'gone';
      // A regular file: a lock written by an earlier version (JSON), or an unfinished one.
      if (code === 'EINVAL') return this.readLegacyHolder();
      return 'unreadable';
    }
  }

  private async readLegacyHolder(): Promise<LockRecord | 'gone' | 'unreadable'> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LockRecord;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
    }
  }

  /** Whether a holder is dead: its process gone, or the lock unreadable past the grace a writer gets. */
  private async isDead(holder: LockRecord | 'unreadable'): Promise<boolean> {
    return holder === 'unreadable' ? this.unreadableTooLong() : isProcessGone(holder);
  }

  /** How a dead lock is named, and known again: by its token, or by its inode when it is unreadable. */
  private async deadLock(holder: LockRecord | 'unreadable'): Promise<DeadLock> {
    if (holder !== 'unreadable') return { key: markerKey(holder.token), isStill: (found) => found.token === holder.token };
    const ino = await this.inode();
    return { key: `ino-${ino}`, isStill: async (found) => found.token === null && found.ino === ino && (await this.unreadableTooLong()) };
  }

  private async unreadableTooLong(): Promise<boolean> {
    try {
      return Date.now() - (await lstat(this.path)).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }

  /**
   * Removes a dead holder's lock, never a live one. Take-overs of one dead lock take turns under
   * a marker named after it, `<path>.takeover-<dead token>`, created as exclusively as the lock
   * itself. The marker's holder reads the lock again and unlinks it only if it is still the dead
   * one. Nothing else replaces a lock that is there: a holder removes only its own, and a new one
   * is created only where none is, so the lock the marker's holder read stays until it unlinks it.
   * (An earlier version renamed the lock aside and linked it back if it was live: a process that
   * had read the dead holder late moved the live lock that replaced it, and a third process could
   * take the empty path in between, so two held the lock at once.)
   *
   * Resolves to false when another process is taking this lock over: the caller waits its turn.
   */
  private async takeOver(dead: DeadLock): Promise<boolean> {
    const marker = new FileLock(`${this.path}.takeover-${dead.key}`, 0);
    const token = newToken();
    if (!(await marker.tryCreate(token))) {
      // A process that died while taking over leaves its marker: it is itself a dead lock.
      const holder = await marker.readHolder();
      if (holder !== 'gone' && (await marker.isDead(holder))) await marker.takeOver(await marker.deadLock(holder));
      return false;
    }
    try {
      const now = await this.readHolder();
      if (now !== 'gone' && (await dead.isStill(now === 'unreadable' ? { token: null, ino: await this.inode() } : { token: now.token, ino: null }))) {
        await this.unlinkLock('taking over stale lock');
      }
    } finally {
      await marker.release(token);
    }
    return true;
  }

  private async inode(): Promise<number | null> {
    return lstat(this.path).then((stats) => stats.ino, () => null);
  }

  private async release(token: string): Promise<void> {
    const holder = await this.readHolder();
    // Only remove our own lock: if it was (wrongly) taken over, the new holder keeps it.
    if (holder !== 'gone' && holder !== 'unreadable' && holder.token === token) await this.unlinkLock('releasing lock');
  }

  /** Removes the lock file; one already gone is fine. */
  private async unlinkLock(what: string): Promise<void> {
    await unlink(this.path).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(what, this.path, error);
    });
  }
}

/** A holder's token: short enough for the lock's symlink target to stay in the inode. */
function newToken(): string {
  return uuidv4().replaceAll('-', '').slice(0, 12);
}

/** A dead holder's lock: the name of its take-over marker, and how to know it is still the one at the path. */
interface DeadLock {
  key: string;
  isStill(found: { token: string | null; ino: number | null }): boolean | Promise<boolean>;
}

/** A token as part of a file name: ours are short and alphanumeric; a lock of an earlier version's may hold anything. */
function markerKey(token: string): string {
  return /^[0-9A-Za-z-]{1,40}$/.test(token) ? token : createHash('sha256').update(token).digest('hex').slice(0, 16);
}
