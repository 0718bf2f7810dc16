import { writeSync } from 'node:fs';
import { diskFaults, type DiskSite } from './disk-faults.js';

const PAGE = 4096;
const YIELD_EVERY = 1024 * 1024;

/**
 * Writes `parts` at `position`, one page of the file per system call (each write ends on a
 * 4 KiB boundary of the file). Why: the page cache sizes a file's folios by the writes that
 * create them, and the kernel counts (and writes back) a whole folio when any byte of it
 * changes. A file written in one large write gets folios of up to 2 MiB, and a later in-place
 * change of a few hundred bytes then counts as 2 MiB written. Written page by page, a change
 * costs its pages. Synchronous writes into the page cache, yielding to the event loop every MiB.
 */
export async function writeInPages(fd: number, parts: readonly Buffer[], position: number, site: DiskSite = 'checkpoint.write'): Promise<number> {
  let at = position;
  let sinceYield = 0;
  for (const part of parts) {
    for (let done = 0; done < part.length; ) {
      const room = PAGE - (at % PAGE);
      const n = writeSync(fd, part, done, diskFaults.allow(site, Math.min(room, part.length - done)), at);
      done += n;
      at += n;
      sinceYield += n;
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }
  return at - position;
}
