import { EVENT_SCHEMA_VERSION } from './event-envelope.js';
import type { SessionEvent } from './session-event.js';

type Upcaster = (raw: Record<string, unknown>) => Record<string, unknown>;

/**
 * One step per schema version: `UPCASTERS[n]` turns a version-n event into version n+1, so the
 * stored log is never rewritten. Version 2 only added optional fields and allowed nulls, so a
 * version-1 event is a version-2 event as it stands.
 */
const UPCASTERS: Readonly<Record<number, Upcaster>> = {
  1: (raw) => ({ ...raw, schemaVersion: 2 }),
};

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
