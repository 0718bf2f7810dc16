import { constants, fdatasyncSync, openSync, closeSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesWrittenByProcess } from './io-counters.js';
import { scratch } from './work-dir.js';

/*
 * The bare baselines: the fastest plain way to make the same bytes durable, nothing else (no
 * validation, no state, no checkpoint). Each makes as many writes of the same size as ours made
 * appends (a handoff is one append of two lines), and returns the time they took, in ms.
 */

function lineOf(bytes: number): Buffer {
  const line = Buffer.alloc(Math.max(2, Math.round(bytes)), 0x78);
  line[line.length - 1] = 0x0a;
  return line;
}

/** One caller, one awaited write per append on a log opened with O_DSYNC (one thread-pool trip each). */
export async function bareDsyncLoop(lineBytes: number, n: number): Promise<{ ms: number; latencies: number[] }> {
  const { dir, done } = await scratch('bare-dsync');
  const handle = await open(join(dir, 'bare.ndjson'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC, 0o600);
  const line = lineOf(lineBytes);
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i += 1) {
    const t = performance.now();
    await handle.write(line);
    latencies.push(performance.now() - t);
  }
  const ms = performance.now() - start;
  await handle.close();
  await done();
  return { ms, latencies };
}

/** One caller, a synchronous write + fdatasync per append (blocks the event loop; shown for reference). Returns ms. */
export async function bareSyncLoop(lineBytes: number, n: number): Promise<number> {
  const { dir, done } = await scratch('bare-sync');
  const fd = openSync(join(dir, 'bare.ndjson'), 'a', 0o600);
  const line = lineOf(lineBytes);
  const start = performance.now();
  for (let i = 0; i < n; i += 1) {
    writeSync(fd, line);
    fdatasyncSync(fd);
  }
  const ms = performance.now() - start;
  closeSync(fd);
  await done();
  return ms;
}

/** Batches: one write of `batch` appends, then one fdatasync, `batches` times. Returns ms. */
export async function bareBatchLoop(lineBytes: number, batches: number, batch: number): Promise<number> {
  const { dir, done } = await scratch('bare-batch');
  const handle = await open(join(dir, 'bare.ndjson'), 'a', 0o600);
  const chunk = Buffer.concat(Array.from({ length: batch }, () => lineOf(lineBytes)));
  const start = performance.now();
  for (let i = 0; i < batches; i += 1) {
    await handle.write(chunk);
    await handle.datasync();
  }
  const ms = performance.now() - start;
  await handle.close();
  await done();
  return ms;
}

/** A trickle through the O_DSYNC loop: `n` lines, one every `intervalMs`. Returns bytes written per byte appended. */
export async function bareTrickle(lineBytes: number, n: number, intervalMs: number): Promise<number> {
  const { dir, done } = await scratch('bare-trickle');
  const handle = await open(join(dir, 'bare.ndjson'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC, 0o600);
  const line = lineOf(lineBytes);
  const before = bytesWrittenByProcess();
  for (let i = 0; i < n; i += 1) {
    await handle.write(line);
    await sleep(intervalMs);
  }
  const amplification = (bytesWrittenByProcess() - before) / (n * line.length);
  await handle.close();
  await done();
  return amplification;
}
