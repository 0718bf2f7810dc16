/**
 * A seam for disk faults: the file store asks {@link diskFaults} before each file operation
 * it depends on, so a test can make the disk refuse exactly there (disk full, permission
 * denied, I/O error), without root, a small tmpfs or a failing device. With no fault
 * planned, a check is one comparison.
 */

/** The file operations a fault can be planned at. */
export type DiskSite =
  | 'log.open'
  | 'log.write'
  | 'log.truncate'
  | 'checkpoint.write'
  | 'checkpoint.patch'
  | 'checkpoint.sync'
  | 'checkpoint.rename'
  | 'checkpoint.truncate'
  | 'index.write'
  | 'directory.sync'
  | 'lock.create';

/** A planned fault: where, which error, and after how much success. */
export interface DiskFault {
  site: DiskSite;
  /** The errno code to fail with (`ENOSPC`, `EACCES`, `EIO`, …). */
  code: string;
  /** Calls at the site that succeed before the fault (default 0). */
  afterCalls?: number;
  /** For writes: bytes that still reach the file before the fault, so a write is torn (default 0). */
  afterBytes?: number;
}

interface Armed extends DiskFault {
  calls: number;
  bytes: number;
}

let armed: Armed[] = [];

function errnoError(site: DiskSite, code: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: injected disk fault at ${site}`);
  error.code = code;
  error.syscall = site;
  return error;
}

/** Where the file store asks; test code plans with {@link planDiskFaults}. */
export const diskFaults = {
  /**
   * Called before an operation at `site` that would write `bytes` (0 for other operations):
   * returns how many of them may be written, or throws the planned error. A torn write gets
   * fewer bytes first and the error at its next call.
   */
  allow(site: DiskSite, bytes = 0): number {
    if (armed.length === 0) return bytes;
    for (const fault of armed) {
      if (fault.site !== site) continue;
      fault.calls += 1;
      if (fault.calls <= (fault.afterCalls ?? 0)) continue;
      const room = (fault.afterBytes ?? 0) - fault.bytes;
      if (bytes > 0 && room > 0) {
        const allowed = Math.min(room, bytes);
        fault.bytes += allowed;
        return allowed;
      }
      throw errnoError(site, fault.code);
    }
    return bytes;
  },
};

/**
 * Plans disk faults for this process until the returned function is called (the disk is
 * "repaired"). A fault keeps failing every call at its site once it starts, as a full disk does.
 *
 * @example
 * const repair = planDiskFaults([{ site: 'log.write', code: 'ENOSPC', afterBytes: 100 }]);
 * await expect(manager.spawnAgentSession(...)).rejects.toMatchObject({ code: 'STORAGE' });
 * repair();
 */
export function planDiskFaults(faults: readonly DiskFault[]): () => void {
  const mine = faults.map((f) => ({ ...f, calls: 0, bytes: 0 }));
  armed = [...armed, ...mine];
  return () => {
    armed = armed.filter((f) => !mine.includes(f));
  };
}
