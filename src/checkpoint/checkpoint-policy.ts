import { SessionError } from '../errors.js';

/** When sessions.json is brought up to date (see {@link checkpointPolicyOf} for the defaults). */
export interface CheckpointPolicy {
  /** Most events the log may hold past the checkpoint: at this many, a checkpoint is written whatever it costs. */
  every: number;
  /** How long appends must pause (at most 8 × this after new events) before a checkpoint is considered, in ms; -1 = only by count and on close. */
  idleMs: number;
  /** A considered checkpoint is written when it would write at most this many bytes per byte of new events. */
  costRatio: number;
}

/** The options a {@link CheckpointPolicy} comes from, as `SessionManager.open` takes them. */
export interface CheckpointOptions {
  checkpointEvery?: number;
  checkpointIdleMs?: number;
  checkpointCostRatio?: number;
}

/** Defaults: a tail of at most 10 000 events; considered when appends pause for 250 ms (at the latest 2 s after new events); at most 1 byte written per byte appended. */
export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = { every: 10_000, idleMs: 250, costRatio: 1 };

/** The policy the options ask for. Throws `INVALID_INPUT` naming the first bad option. */
export function checkpointPolicyOf(options: CheckpointOptions): CheckpointPolicy {
  const { checkpointEvery: every, checkpointIdleMs: idleMs, checkpointCostRatio: costRatio } = options;
  if (every !== undefined && !(Number.isSafeInteger(every) && every >= 1)) refuse('checkpointEvery', 'a whole number of events ≥ 1', every);
  if (idleMs !== undefined && !(idleMs === -1 || (Number.isSafeInteger(idleMs) && idleMs >= 0))) refuse('checkpointIdleMs', 'a whole number of ms ≥ 0, or -1', idleMs);
  if (costRatio !== undefined && !(typeof costRatio === 'number' && Number.isFinite(costRatio) && costRatio > 0 && costRatio <= 1000)) {
    refuse('checkpointCostRatio', 'a number of bytes per byte above 0 and at most 1000', costRatio);
  }
  return { every: every ?? DEFAULT_CHECKPOINT_POLICY.every, idleMs: idleMs ?? DEFAULT_CHECKPOINT_POLICY.idleMs, costRatio: costRatio ?? DEFAULT_CHECKPOINT_POLICY.costRatio };
}

function refuse(option: string, wanted: string, value: unknown): never {
  throw new SessionError('INVALID_INPUT', `option ${option} must be ${wanted}, not ${typeof value === 'number' ? value : JSON.stringify(value) ?? typeof value}`);
}

/** Holes may take this share of the records region before the file is rewritten compactly. */
const MAX_HOLE_SHARE = 0.5;
/** …but a file is never rewritten for holes smaller than this. */
const MIN_HOLES_TO_COMPACT = 1024 * 1024;

/**
 * Whether sessions.json is rewritten whole (compactly) rather than changed in place: when the
 * blanked records it would hold outgrow the live ones, and are at least 1 MiB.
 */
export function shouldCompact(holeBytes: number, recordsBytes: number): boolean {
  return holeBytes > Math.max(MIN_HOLES_TO_COMPACT, MAX_HOLE_SHARE * recordsBytes);
}

const PAGE = 4096;

/**
 * What a checkpoint would write, in bytes as the disk counts them (whole pages): the changed
 * records appended, one page per distinct page of old records blanked, and the trailer and
 * index pages. An estimate: records are counted at their running average size.
 */
export function estimateCheckpointBytes(changedRecords: number, averageRecordBytes: number, blankedPages: number): number {
  return PAGE * (blankedPages + Math.ceil((changedRecords * averageRecordBytes) / PAGE) + 2);
}

/** The page a byte offset lies in. */
export function pageOf(offset: number): number {
  return Math.floor(offset / PAGE);
}
