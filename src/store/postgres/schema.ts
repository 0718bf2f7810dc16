import { SessionError } from '../../errors.js';

/** A PostgreSQL schema name this library may use: validated, because identifiers cannot be bound as parameters. */
export function checkSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new SessionError('INVALID_INPUT', `PostgreSQL schema name "${name}" must match [a-z_][a-z0-9_]{0,62}`);
  }
  return name;
}

/**
 * The condition of a query for the events of some sessions (`$1`, uuid[]) up to a seq (`$2`),
 * answered from the `(session_id, version)` index: in that order (`ORDER BY session_id,
 * version`), each session's events come in seq order. The bound is an expression, not the
 * column, so that the seq index can serve neither it nor the order: with the statistics behind
 * a table that grows by thousands of events a second, the planner took that index, walked
 * every event up to the bound and filtered them (70 ms at 150,000 events, for 32 rows).
 */
export const OWN_EVENTS_UP_TO = 'session_id = ANY($1::uuid[]) AND seq + 0 <= $2';

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
${transcriptSearchSql(s)}
-- The end of each running agent's log, published by the manager running it, for pages on other hosts.
CREATE TABLE IF NOT EXISTS ${s}.agent_logs (
  session_id   uuid        PRIMARY KEY,
  tail         bytea       NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);
${slotTablesSql(s)}
${sessionsTableSql(s)}
${storeSessionsSql(s)}
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

/**
 * The sessions table: one row a session, as the projection folded it from the events up to the
 * seq `sessions_folded` holds. Appends never touch it (they cost what they cost without it); a
 * read, and a manager as it opens and closes, folds what is new first (the client computes the
 * rows; SQL only stores them). Read-only for everyone else (docs/reading.md documents it).
 */
function sessionsTableSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.sessions (
  id             uuid        PRIMARY KEY,
  spawn_seq      bigint      NOT NULL UNIQUE,
  seq            bigint      NOT NULL,
  revision       integer     NOT NULL,
  status         text        NOT NULL,
  agent_name     text        NOT NULL,
  phase          text        NOT NULL,
  issue          integer,
  parent_session uuid,
  retry_of       uuid,
  created_at     timestamptz NOT NULL,
  created_ms     bigint      NOT NULL,
  ended_at       timestamptz,
  ended_ms       bigint,
  cost_nanos     bigint      NOT NULL,
  turns          integer     NOT NULL,
  search_text    text        NOT NULL
) WITH (fillfactor = 70);
-- A session's later rows change no indexed column but its status (once, as it ends): they are
-- written beside the old one on its page (room left by the fillfactor), touching no index. Folds
-- go one at a time: each locks the sessions_folded row first.
CREATE INDEX IF NOT EXISTS sessions_parent ON ${s}.sessions (parent_session) WHERE parent_session IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_issue ON ${s}.sessions (issue, spawn_seq) WHERE issue IS NOT NULL;
-- A filter by a status few sessions hold (Failed, or Active in a store of mostly ended ones)
-- would otherwise walk the table in spawn order to fill a page.
CREATE INDEX IF NOT EXISTS sessions_status ON ${s}.sessions (status, spawn_seq);
CREATE TABLE IF NOT EXISTS ${s}.sessions_folded (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint  NOT NULL CHECK (seq >= 0)
);
INSERT INTO ${s}.sessions_folded (seq) VALUES (0) ON CONFLICT DO NOTHING;
${sessionStatsSql(s)}`;
}

/**
 * The stats of the sessions table, summed by agent, phase and status, kept by the folds as they
 * store rows (see store_sessions): stats then cost the groups, not the sessions (a GROUP BY over
 * 50,000 rows took 45 ms, and a reader asks for stats every few hundred ms). Level with the
 * table while `sessions_folded.stats_seq` equals its `seq`; a store folded by an earlier
 * version is not, and reads sum the sessions table instead until a migration builds the stats
 * again (holding the folded row, so no fold runs meanwhile). `first_spawn` is the least
 * `spawn_seq` the group ever held: agents come out in the order of their first session.
 */
function sessionStatsSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.session_stats (
  agent_name  text   NOT NULL,
  phase       text   NOT NULL,
  status      text   NOT NULL,
  n           bigint NOT NULL,
  ended       bigint NOT NULL,
  total_ms    bigint NOT NULL,
  max_ms      bigint,
  cost_nanos  bigint NOT NULL,
  turns       bigint NOT NULL,
  first_spawn bigint NOT NULL,
  PRIMARY KEY (agent_name, phase, status)
);
DO $stats$
BEGIN
  -- ALTER TABLE locks the table whole even when the column is there: asked only when it is not,
  -- so that a migration (every process's first read) never waits for a fold, nor a read for it.
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${s}.sessions_folded'::regclass AND attname = 'stats_seq' AND NOT attisdropped) THEN
    ALTER TABLE ${s}.sessions_folded ADD COLUMN stats_seq bigint;
  END IF;
  PERFORM 1 FROM ${s}.sessions_folded WHERE stats_seq IS DISTINCT FROM seq FOR UPDATE;
  IF FOUND THEN
    DELETE FROM ${s}.session_stats;
    INSERT INTO ${s}.session_stats
      SELECT agent_name, phase, status, count(*), count(ended_ms), coalesce(sum(ended_ms - created_ms), 0), max(ended_ms - created_ms),
        sum(cost_nanos), sum(turns), min(spawn_seq)
      FROM ${s}.sessions GROUP BY agent_name, phase, status;
    UPDATE ${s}.sessions_folded SET stats_seq = seq;
  END IF;
END
$stats$;`;
}

/**
 * The columns of the sessions table's rows as a fold sends them to `store_session_columns`, in
 * its parameters' order (after `top` and `folded`): each an array with one element a row.
 * `SessionRow`'s fields by the same names, in the same order.
 */
export const SESSION_ROW_COLUMNS = [
  ['id', 'uuid'], ['spawn', 'bigint'], ['last', 'bigint'], ['revision', 'integer'], ['status', 'text'], ['agent', 'text'],
  ['phase', 'text'], ['issue', 'integer'], ['parent', 'uuid'], ['retry_of', 'uuid'], ['created_at', 'timestamptz'],
  ['created_ms', 'bigint'], ['ended_at', 'timestamptz'], ['ended_ms', 'bigint'], ['cost_nanos', 'bigint'], ['turns', 'integer'], ['search', 'text'],
] as const;

/** The call of `store_session_columns` in `schema`, its rows' columns as `$3` on (see sessionRowColumns). */
export function storeSessionColumnsQuery(schema: string): string {
  return `SELECT ${checkSchemaName(schema)}.store_session_columns($1, $2, ${SESSION_ROW_COLUMNS.map(([, type], i) => `$${i + 3}::${type}[]`).join(', ')})`;
}

/**
 * Two functions that store the rows of events after `top`, insert the sessions they spawned,
 * bring the others up to date (what a session's later events can change), and mark the table
 * level with `folded`; the caller holds the sessions_folded row (SELECT … FOR UPDATE) and read
 * `top` there.
 * - `store_session_columns(top, folded, id_values, spawn_values, …)` takes the rows as one
 *   array a column (SESSION_ROW_COLUMNS): what folds call.
 * - `store_sessions(top, folded, session_rows)` takes them as a JSON array of SessionRow: what
 *   earlier versions call, kept for them while they run beside this one.
 * They differ only in how the rows are read: PostgreSQL's `json_to_recordset` spent about 10 µs
 * a row (8 ms of a fold's 18 for 800 rows), `unnest` of typed arrays about 1.
 */
function storeSessionsSql(s: string): string {
  const fromJson = `json_to_recordset(session_rows) AS r (${SESSION_ROW_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`;
  const fromColumns = `unnest(${SESSION_ROW_COLUMNS.map(([name]) => `${name}_values`).join(', ')}) AS r (${SESSION_ROW_COLUMNS.map(([name]) => name).join(', ')})`;
  return `
${storeFunctionSql(s, 'store_sessions', 'session_rows json', fromJson)}
${storeFunctionSql(s, 'store_session_columns', SESSION_ROW_COLUMNS.map(([name, type]) => `${name}_values ${type}[]`).join(', '), fromColumns)}`;
}

function storeFunctionSql(s: string, name: string, rowParameters: string, rowSource: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.${name}(top bigint, folded bigint, ${rowParameters}) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT stats_seq FROM ${s}.sessions_folded) = top THEN
    ${upsertSessionsSql(s, rowSource, true)}
    UPDATE ${s}.sessions_folded SET seq = folded, stats_seq = folded;
  ELSE
    ${upsertSessionsSql(s, rowSource, false)}
    UPDATE ${s}.sessions_folded SET seq = folded;
  END IF;
END
$fn$;`;
}

function upsertSessionsSql(s: string, rowSource: string, withStats: boolean): string {
  // The rows are parsed once; an update changes no indexed column, so it stays on its page (HOT).
  const update = `UPDATE ${s}.sessions t SET seq = top + r.last, revision = r.revision, status = r.status, ended_at = r.ended_at, ended_ms = r.ended_ms,
        cost_nanos = r.cost_nanos, turns = r.turns, search_text = coalesce(r.search, t.search_text)
      FROM r WHERE r.spawn IS NULL AND t.id = r.id`;
  const insert = `INSERT INTO ${s}.sessions (id, spawn_seq, seq, revision, status, agent_name, phase, issue, parent_session, retry_of,
        created_at, created_ms, ended_at, ended_ms, cost_nanos, turns, search_text)
      SELECT r.id, top + r.spawn, top + r.last, r.revision, r.status, r.agent, r.phase, r.issue, r.parent, r.retry_of,
        r.created_at, r.created_ms, r.ended_at, r.ended_ms, r.cost_nanos, r.turns, r.search
      FROM r WHERE r.spawn IS NOT NULL`;
  const rows = `r AS MATERIALIZED (SELECT * FROM ${rowSource})`;
  if (!withStats) return `WITH ${rows}, updated AS (${update}) ${insert};`;
  // Every part of one statement sees the table as it was before it: `old` holds the rows the
  // update replaces. Each changed session leaves its old group and joins its new one; only an
  // Active session changes, and an Active one has no duration, so a group's longest never shrinks.
  return `WITH ${rows}, old AS MATERIALIZED (
      SELECT t.id, t.spawn_seq, t.agent_name, t.phase, t.status, t.ended_ms - t.created_ms AS ms, t.cost_nanos, t.turns
      FROM ${s}.sessions t JOIN r ON t.id = r.id WHERE r.spawn IS NULL
    ), updated AS (${update}), inserted AS (${insert}), delta AS (
      SELECT agent_name, phase, status, -1 AS n, -(ms IS NOT NULL)::int AS ended, -coalesce(ms, 0) AS total_ms, NULL::bigint AS max_ms,
        -cost_nanos AS cost_nanos, -turns AS turns, spawn_seq FROM old
      UNION ALL
      SELECT r.agent, r.phase, r.status, 1, (r.ended_ms IS NOT NULL)::int, coalesce(r.ended_ms - r.created_ms, 0), r.ended_ms - r.created_ms,
        r.cost_nanos, r.turns, coalesce(top + r.spawn, old.spawn_seq) FROM r LEFT JOIN old USING (id)
    )
    INSERT INTO ${s}.session_stats AS g (agent_name, phase, status, n, ended, total_ms, max_ms, cost_nanos, turns, first_spawn)
      SELECT agent_name, phase, status, sum(n), sum(ended), sum(total_ms), max(max_ms), sum(cost_nanos), sum(turns), min(spawn_seq)
      FROM delta GROUP BY agent_name, phase, status
    ON CONFLICT (agent_name, phase, status) DO UPDATE SET n = g.n + excluded.n, ended = g.ended + excluded.ended, total_ms = g.total_ms + excluded.total_ms,
      max_ms = greatest(g.max_ms, excluded.max_ms), cost_nanos = g.cost_nanos + excluded.cost_nanos, turns = g.turns + excluded.turns,
      first_spawn = least(g.first_spawn, excluded.first_spawn);`;
}

/**
 * The messages of the stored conversations, for a search: a row a message, its words (as
 * `indexedTerms` gives them: words and pairs of adjacent words, lexemes only) in a tsvector under a GIN index. The client computes
 * the rows (the same code reads a conversation on files); `indexed_sha256` says which version
 * of a transcript its rows are of, so transcripts stored by earlier versions are indexed by the
 * next search. A message with too many distinct words for a tsvector has none (`words` null)
 * and is a candidate of every search.
 */
function transcriptSearchSql(s: string): string {
  return `
ALTER TABLE ${s}.transcripts ADD COLUMN IF NOT EXISTS indexed_sha256 text;
CREATE INDEX IF NOT EXISTS transcripts_unindexed ON ${s}.transcripts (session_id) WHERE indexed_sha256 IS DISTINCT FROM sha256;
CREATE TABLE IF NOT EXISTS ${s}.transcript_messages (
  session_id uuid        NOT NULL,
  message    integer     NOT NULL CHECK (message >= 0),
  saved_at   timestamptz NOT NULL,  -- the transcript's: a search's order, without a join
  role       text        NOT NULL,
  text       text        NOT NULL,
  words      tsvector,
  PRIMARY KEY (session_id, message)
);
CREATE INDEX IF NOT EXISTS transcript_messages_words ON ${s}.transcript_messages USING gin (words);
CREATE INDEX IF NOT EXISTS transcript_messages_order ON ${s}.transcript_messages (saved_at DESC, session_id DESC, message);
CREATE INDEX IF NOT EXISTS transcript_messages_unindexed ON ${s}.transcript_messages (session_id) WHERE words IS NULL;`;
}

/** The LISTEN/NOTIFY channel on which a schema's new events are announced. */
export function channelOf(schema: string): string {
  return `${checkSchemaName(schema)}_events`;
}

/**
 * The concurrency slots every manager and host on the store shares: one row holding the limit
 * and the counters (locked FOR UPDATE by each change, so changes take turns), and a row per
 * agent that holds a slot (`token`, its fencing token) or waits for one (`token` null), each
 * with a lease that expires by the server's clock unless renewed.
 */
function slotTablesSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.slot_limit (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  concurrency jsonb,
  next_token  bigint  NOT NULL DEFAULT 1,
  next_order  bigint  NOT NULL DEFAULT 1
);
INSERT INTO ${s}.slot_limit (id) VALUES (true) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS ${s}.slots (
  holder      uuid        PRIMARY KEY,
  agent       text        NOT NULL,
  pipeline    uuid,
  keeper      text        NOT NULL,
  queue_order bigint      NOT NULL,
  token       bigint,
  lease_ms    integer     NOT NULL,
  lease_until timestamptz NOT NULL,
  since       timestamptz NOT NULL
);`;
}
