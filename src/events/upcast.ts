import { EVENT_SCHEMA_VERSION } from './event-envelope.js';

type Upcaster = (raw: Record<string, unknown>) => Record<string, unknown>;

/**
 * One step per schema version: `UPCASTERS[n]` turns a version-n event into version n+1.
 * Version 1 is the first, so the table is empty; a future `v2` adds `1: (raw) => …` here
 * and the stored log is never rewritten.
 */
const UPCASTERS: Readonly<Record<number, Upcaster>> = {};

/**
 * Brings a decoded event up to {@link EVENT_SCHEMA_VERSION} before it is validated.
 * An unknown (e.g. newer) version is returned unchanged and then fails validation,
 * which names the version it found.
 */
export function upcast(raw: Record<string, unknown>): Record<string, unknown> {
  let event = raw;
  let version = event['schemaVersion'];
  while (typeof version === 'number' && version < EVENT_SCHEMA_VERSION) {
    const step = UPCASTERS[version];
    if (step === undefined) break;
    event = step(event);
    version = event['schemaVersion'];
  }
  return event;
}
