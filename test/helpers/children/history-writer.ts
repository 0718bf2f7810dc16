/*
 * A writer of a recorded history: runs generated operations through the public manager API —
 * spawn, handoff, complete, fail, retry, racing other writers on shared sessions — and records
 * each one as it is invoked and as it ends (ok, a definite failure, or nothing: unknown, if this
 * process is killed first) in <dir>/history/<name>.ndjson, one appendFileSync a record, so a
 * SIGKILL loses no record of what was acknowledged. Every operation carries its tag as `by`,
 * so the checker finds the events it made.
 * With HISTORY_DISK_FAULTS=1 (a file store), the disk fails now and then through the store's
 * seam: a write torn part way, a sync, a truncate, a checkpoint or index write refused, for a
 * round or two, then repaired. An operation it ends (STORAGE) is recorded as such; its outcome
 * stays unknown (a write may be whole on disk before its sync fails), and the writer goes on.
 * Usage: node history-writer.js <dir> <name> <seed> <operations> [<postgres url> <schema>]
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresEventStore, SessionManager, isSessionError, PHASES, type Session } from '../../../src/index.js';
import { planDiskFaults, type DiskSite } from '../../../src/store/file/disk-faults.js';
import type { HistoryOp, HistoryRecord } from '../history/history.js';

const [dir, name, seedText, opsText, pgUrl, schema] = process.argv.slice(2) as [string, string, string, string, string?, string?];
let seed = Number(seedText);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const now = () => performance.timeOrigin + performance.now();
const store = pgUrl === undefined ? undefined : new PostgresEventStore({ connectionString: pgUrl, schema: schema! });
const manager = await SessionManager.open(join(dir, pgUrl === undefined ? 'store' : `cache-${name}`), { checkpointEvery: 50, ...(store === undefined ? {} : { store }) });
mkdirSync(join(dir, 'history'), { recursive: true });
const file = join(dir, 'history', `${name}.ndjson`);
const record = (entry: HistoryRecord) => appendFileSync(file, `${JSON.stringify(entry)}\n`);
process.stdout.write('ready\n');
while (!existsSync(join(dir, 'go'))) await new Promise((r) => setTimeout(r, 2));

const diskFaultsOn = process.env['HISTORY_DISK_FAULTS'] === '1' && pgUrl === undefined;
type Fault = { site: DiskSite; code: string; torn?: boolean };
const FAULTS: Fault[][] = [
  [{ site: 'log.write', code: 'ENOSPC', torn: true }],
  [{ site: 'log.write', code: 'EIO' }],
  // A torn write that cannot be undone either: its bytes stay on disk for the next writer (any process) to cut.
  [{ site: 'log.write', code: 'ENOSPC', torn: true }, { site: 'log.truncate', code: 'EIO' }],
  [{ site: 'checkpoint.patch', code: 'ENOSPC', torn: true }],
  [{ site: 'checkpoint.write', code: 'ENOSPC', torn: true }],
  [{ site: 'checkpoint.sync', code: 'EIO' }],
  [{ site: 'index.write', code: 'ENOSPC' }],
];
let repair: (() => void) | null = null;
let repairAfter = 0;

for (let i = 0; i < Number(opsText); i += 1) {
  if (repair !== null && i >= repairAfter) {
    repair();
    repair = null;
  }
  if (diskFaultsOn && repair === null && random() < 0.08) {
    const afterCalls = Math.floor(random() * 3);
    const faults = FAULTS[Math.floor(random() * FAULTS.length)]!;
    repair = planDiskFaults(faults.map((f) => ({ site: f.site, code: f.code, afterCalls: f.site === 'log.truncate' ? 0 : afterCalls, ...(f.torn === true ? { afterBytes: 1 + Math.floor(random() * 300) } : {}) })));
    repairAfter = i + 1 + Math.floor(random() * 2);
  }
  // A refresh the disk refuses is retried next round.
  if (!(await manager.refresh().then(() => true, (error: unknown) => isStorageFault(error)))) continue;
  let active: Session[];
  let failed: Session[];
  try {
    active = await manager.listActiveSessions();
    failed = (await manager.querySessions({ status: 'Failed', order: 'newest', limit: 5 })).sessions;
  } catch (error) {
    if (!isStorageFault(error)) throw error;
    continue;
  }
  const roll = random();
  // Mostly moves on the oldest Active sessions, so that writers collide on the same one.
  const target: Session | undefined = active[random() < 0.7 ? 0 : Math.floor(random() * active.length)];
  let op: HistoryOp;
  if (target === undefined || roll < 0.15 || active.length < 2) op = { kind: 'spawn' };
  else if (roll < 0.25 && failed.length > 0) op = { kind: 'retry', target: failed[Math.floor(random() * failed.length)]!.id };
  else {
    const depth = (await manager.getSessionLineage(target.id)).length;
    const move = random();
    op = { kind: move < 0.45 && depth < PHASES.length ? 'handoff' : move < 0.75 ? 'complete' : 'fail', target: target.id };
  }
  // A move on a session also races a completion of the same session, from this writer: two operations at once.
  const ops: HistoryOp[] = op.target !== undefined && op.kind !== 'retry' ? [op, { kind: 'complete', target: op.target }] : [op];
  await Promise.all(ops.map((each, j) => invoke(each, `${name}:${i}${j === 0 ? '' : 'b'}`)));
}

async function invoke(op: HistoryOp, tag: string): Promise<void> {
  record({ type: 'invoke', tag, writer: name, op, at: now() });
  try {
    const session = await run(op, tag);
    record({ type: 'ok', tag, at: now(), ...(session === null ? {} : { session }) });
  } catch (error) {
    // A disk fault planned here: the operation's outcome is unknown, and the writer goes on once the disk is repaired.
    if (isStorageFault(error)) {
      record({ type: 'storage', tag, at: now(), site: String((error as { cause?: { syscall?: string } }).cause?.syscall ?? 'unknown') });
      return;
    }
    // A refusal is a definite failure: nothing was written. Anything else ends the writer, its operations in flight unknown.
    if (!isSessionError(error) || !['INVALID_TRANSITION', 'CONFLICT', 'ALREADY_EXISTS', 'NOT_FOUND'].includes(error.code)) {
      process.stderr.write(`${tag}: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(3);
    }
    record({ type: 'fail', tag, at: now(), code: error.code });
  }
}

async function run(op: HistoryOp, by: string): Promise<string | null> {
  const context = { issueNumber: 1 + Math.floor(random() * 50), currentPhase: PHASES[0], worktreePath: '/w' };
  switch (op.kind) {
    case 'spawn':
      return (await manager.spawnAgentSession('CodeGenAgent', `history ${by}`, context, { by })).id;
    case 'handoff': {
      const from = await manager.getSession(op.target!);
      const depth = from === undefined ? 1 : (await manager.getSessionLineage(from.id)).length;
      return (await manager.handoff(op.target!, `Agent${depth}`, { ...(from?.context ?? context), currentPhase: PHASES[Math.min(depth, PHASES.length - 1)]! }, { by })).id;
    }
    case 'complete':
      await manager.completeSession(op.target!, { success: true, output: `by ${by}` }, { by });
      return null;
    case 'fail':
      await manager.failSession(op.target!, `failed by ${by}`, undefined, { by });
      return null;
    case 'retry':
      return (await manager.retrySession(op.target!, { by })).id;
  }
}
repair?.();
await manager.close();
process.stdout.write('done\n');

/** Whether `error` is a STORAGE error while a disk fault is planned (one this writer injected). */
function isStorageFault(error: unknown): boolean {
  return repair !== null && isSessionError(error, 'STORAGE');
}
