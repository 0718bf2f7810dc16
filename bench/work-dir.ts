import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scratch directory for one benchmark. Ours and the baseline always share one, so both hit the
 * same disk; BENCH_DIR picks the disk (the default temp dir may be a RAM disk elsewhere).
 */
export async function scratch(name: string): Promise<{ dir: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(process.env['BENCH_DIR'] ?? tmpdir(), `miyabi-bench-${name}-`));
  return { dir, done: () => rm(dir, { recursive: true, force: true }) };
}
