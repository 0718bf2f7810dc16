import { SessionError } from '../../errors.js';

/** A PostgreSQL schema name this library may use: validated, because identifiers cannot be bound as parameters. */
export function checkSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new SessionError('INVALID_INPUT', `PostgreSQL schema name "${name}" must match [a-z_][a-z0-9_]{0,62}`);
  }
  return name;
}

/**
 * The idempotent migration: an events table with a global gap-free `seq` and a per-session
 * `version` under a unique constraint, so two hosts can never both append the same session's
 * next event. Every value is bound as a parameter elsewhere; only the validated schema name is
 * spliced in here.
 */
export function migrationSql(schema: string): string {
  const s = checkSchemaName(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.events (
  seq         bigint      PRIMARY KEY CHECK (seq > 0),
  id          uuid        NOT NULL UNIQUE,
  session_id  uuid        NOT NULL,
  version     integer     NOT NULL CHECK (version > 0),
  type        text        NOT NULL,
  event       json        NOT NULL,  -- json, not jsonb: the stored bytes and key order stay as written
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_session_version UNIQUE (session_id, version)
);
CREATE INDEX IF NOT EXISTS events_session ON ${s}.events (session_id, version);
`;
}

/** The LISTEN/NOTIFY channel on which a schema's new events are announced. */
export function channelOf(schema: string): string {
  return `${checkSchemaName(schema)}_events`;
}
