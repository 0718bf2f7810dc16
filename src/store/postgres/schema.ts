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
  // One migration at a time: CREATE OR REPLACE FUNCTION run by two hosts at once can fail.
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('${s}.migrate'));
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
-- The unique constraint's index serves lookups by session; a second one on the same columns,
-- made by earlier versions, only cost every insert an index entry more.
DROP INDEX IF EXISTS ${s}.events_session;
CREATE TABLE IF NOT EXISTS ${s}.transcripts (
  session_id  uuid        PRIMARY KEY,
  bytes       integer     NOT NULL CHECK (bytes >= 0),
  sha256      text        NOT NULL,
  content     bytea       NOT NULL,
  saved_at    timestamptz NOT NULL DEFAULT now()
);
${appendFunctionSql(s)}
COMMIT;
`;
}

/**
 * One group commit in one call, so a commit costs one round trip however many appends it holds.
 * It takes the schema's lock (so `seq` stays gap-free) and inserts the events with `seq`s from
 * the top, then announces the last one. The caller stamped them on the versions it knows:
 * a session whose latest version is another shows as a unique violation of
 * (session_id, version) for a session with events, and by `bases` for one without (a caller's
 * view is never ahead of the table). Either way it writes nothing and returns each session's
 * latest version (a row per session, `first_seq` null), so the caller can stamp again;
 * otherwise one row with the first `seq`. `events` is one JSON array, each event with its
 * `seq` as the caller guessed it (the top it knew, plus one, and so on): when the guess holds,
 * as it does for a lone writer, the events are stored as sent; else each one's text gets its
 * `seq` put right. Either way an event's bytes and key order stay as written.
 */
function appendFunctionSql(s: string): string {
  const latestOf = (sid: string) => `coalesce((SELECT max(e.version) FROM ${s}.events e WHERE e.session_id = ${sid}), 0)`;
  return `
CREATE OR REPLACE FUNCTION ${s}.append_events(
  sessions uuid[], bases integer[], guess bigint,
  ids uuid[], event_sessions uuid[], versions integer[], types text[], events json
) RETURNS TABLE (first_seq bigint, session_id uuid, version integer)
LANGUAGE plpgsql AS $fn$
DECLARE
  top bigint;
  violated text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('${s}'));
  IF EXISTS (SELECT 1 FROM unnest(sessions, bases) AS b (sid, base) WHERE b.base <> ${latestOf('b.sid')}) THEN
    RETURN QUERY SELECT DISTINCT NULL::bigint, b.sid, ${latestOf('b.sid')} FROM unnest(sessions || event_sessions) AS b (sid);
    RETURN;
  END IF;
  SELECT coalesce(max(e.seq), 0) INTO top FROM ${s}.events e;
  BEGIN
    IF top + 1 = guess THEN
      INSERT INTO ${s}.events (seq, id, session_id, version, type, event)
        SELECT top + x.o, x.id, x.sid, x.v, x.t, e.body
        FROM unnest(ids, event_sessions, versions, types) WITH ORDINALITY AS x (id, sid, v, t, o)
        JOIN json_array_elements(events) WITH ORDINALITY AS e (body, o) USING (o);
    ELSE
      INSERT INTO ${s}.events (seq, id, session_id, version, type, event)
        SELECT top + x.o, x.id, x.sid, x.v, x.t, ('{"seq":' || (top + x.o) || substr(e.body::text, strpos(e.body::text, ',')))::json
        FROM unnest(ids, event_sessions, versions, types) WITH ORDINALITY AS x (id, sid, v, t, o)
        JOIN json_array_elements(events) WITH ORDINALITY AS e (body, o) USING (o);
    END IF;
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
    IF violated <> 'events_session_version' THEN RAISE; END IF;
    RETURN QUERY SELECT DISTINCT NULL::bigint, b.sid, ${latestOf('b.sid')} FROM unnest(sessions || event_sessions) AS b (sid);
    RETURN;
  END;
  PERFORM pg_notify('${channelOf(s)}', (top + cardinality(ids))::text);
  RETURN QUERY SELECT top + 1, NULL::uuid, NULL::integer;
END
$fn$;`;
}

/** The LISTEN/NOTIFY channel on which a schema's new events are announced. */
export function channelOf(schema: string): string {
  return `${checkSchemaName(schema)}_events`;
}
