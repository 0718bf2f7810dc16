import { SessionError } from '../errors.js';
import { checkpointPolicyOf } from '../checkpoint/checkpoint-policy.js';
import type { SessionManagerOptions } from './options.js';
import { resolveNotifyOptions } from '../domain/notify-options.js';
import { SlotLeaseSchema } from '../domain/concurrency-limit.js';

/**
 * Checks every option of `SessionManager.open` before anything is created. Throws
 * `INVALID_INPUT` naming the first bad one: a misspelt durability must not mean "no fsync".
 */
export function validateManagerOptions(options: SessionManagerOptions): void {
  if (typeof options !== 'object' || options === null) throw new SessionError('INVALID_INPUT', 'the options must be an object');
  const o = options as Record<string, unknown>;
  oneOf(o, 'durability', ['fsync', 'none']);
  oneOf(o, 'actors', ['on-demand', 'eager']);
  wholeNumber(o, 'lockTimeoutMs', 0);
  wholeNumber(o, 'lockLeaseMs', 0);
  wholeNumber(o, 'maxBatch', 1);
  wholeNumber(o, 'maxConflictRetries', 0);
  wholeNumber(o, 'maxTranscriptBytes', 0);
  if (o['storeTranscripts'] !== undefined && typeof o['storeTranscripts'] !== 'boolean') refuse('storeTranscripts', 'true or false', o['storeTranscripts']);
  for (const name of ['clock', 'inspect']) if (o[name] !== undefined && typeof o[name] !== 'function') refuse(name, 'a function', o[name]);
  for (const name of ['runner', 'store']) if (o[name] !== undefined && (typeof o[name] !== 'object' || o[name] === null)) refuse(name, 'an object', o[name]);
  if (o['slotLeaseMs'] !== undefined && !SlotLeaseSchema.safeParse(o['slotLeaseMs']).success) refuse('slotLeaseMs', 'a whole number of ms from 200 to 3 600 000', o['slotLeaseMs']);
  wholeNumber(o, 'slotPollMs', 10);
  checkpointPolicyOf(options);
  resolveNotifyOptions(o['notify']);
}

function oneOf(o: Record<string, unknown>, name: string, allowed: readonly string[]): void {
  if (o[name] !== undefined && !allowed.includes(o[name] as string)) refuse(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, o[name]);
}

function wholeNumber(o: Record<string, unknown>, name: string, min: number): void {
  const value = o[name];
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= min)) refuse(name, `a whole number ≥ ${min}`, value);
}

function refuse(option: string, wanted: string, value: unknown): never {
  throw new SessionError('INVALID_INPUT', `option ${option} must be ${wanted}, not ${typeof value === 'number' || typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
}
