import { EVENT_SCHEMA_VERSION } from './event-envelope.js';
import type { SessionEvent } from './session-event.js';

type Upcaster = (raw: Record<string, unknown>) => Record<string, unknown>;

/**
 * One step per schema version: `UPCASTERS[n]` turns a version-n event into version n+1, so the
 * stored log is never rewritten. Versions 2 to 4 only added optional fields, event types and
 * allowed nulls, so an event of an earlier version is one of the next as it stands.
 */
const UPCASTERS: Readonly<Record<number, Upcaster>> = {
  1: (raw) => ({ ...raw, schemaVersion: 2 }),
  2: (raw) => ({ ...raw, schemaVersion: 3 }),
  3: (raw) => ({ ...raw, schemaVersion: 4 }),
};

/**
 * The versions whose events are events of this version as they stand, once their number is
 * changed (every upcaster above only renumbers): a fast reader may skip the upcast for them.
 */
export const RENUMBERED_VERSIONS: ReadonlySet<unknown> = new Set([1, 2, 3]);

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

/** A stored event as this version reads it: itself when of this schema version, else upcast (a store that keeps parsed JSON, as PostgreSQL does). */
export function currentEvent(stored: SessionEvent): SessionEvent {
  return stored.schemaVersion === EVENT_SCHEMA_VERSION ? stored : (upcast(stored as unknown as Record<string, unknown>) as SessionEvent);
}
