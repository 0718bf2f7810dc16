import { readdir, readFile, readlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../../../src/index.js';
import { contextFor, tempDir } from '../../helpers/fixtures.js';

/** The open-file flags of this process's descriptors on `path` (from /proc/self/fdinfo, octal). */
async function flagsOf(path: string): Promise<number[]> {
  const flags: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const match = /^flags:\s+([0-7]+)$/m.exec(info);
    if (match !== null) flags.push(parseInt(match[1]!, 8));
  }
  return flags;
}

// O_ACCMODE (3 on Linux) is not among Node's constants.
const writable = (f: number) => (f & 3) !== constants.O_RDONLY;

describe.runIf(process.platform === 'linux')('durability of acknowledged appends', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("with the default 'fsync', every descriptor the log is written through is O_DSYNC: a resolved append is on disk", async () => {
    const m = await SessionManager.open(dir);
    await m.spawnAgentSession('A', 'p', contextFor());
    const log = join(dir, 'events.ndjson');
    const writers = (await flagsOf(log)).filter(writable);
    expect(writers.length).toBeGreaterThan(0);
    for (const f of writers) expect(f & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await m.close();
  });

  it("with 'none' the log is written without O_DSYNC (survives a process crash, not a power loss)", async () => {
    const m = await SessionManager.open(dir, { durability: 'none' });
    await m.spawnAgentSession('A', 'p', contextFor());
    const writers = (await flagsOf(join(dir, 'events.ndjson'))).filter(writable);
    expect(writers.length).toBeGreaterThan(0);
    for (const f of writers) expect(f & constants.O_DSYNC).toBe(0);
    await m.close();
  });
});
