import { z } from 'zod';
import { validate as isUuid } from 'uuid';
import { PHASES } from '../domain/phase.js';
import { SessionError } from '../errors.js';

/*
 * The original (Rust) session manager's database, `sessions.json`, as its serde structs read it
 * (session.rs: ManagedSession, SessionContext; storage.rs: SessionDatabase). serde ignores keys it
 * does not know and reads a missing `Option` as None, so both are allowed here; a `Vec` and
 * every other field are required. `previous_results` is `#[serde(skip)]` there: never written,
 * ignored when present.
 */

const Uuid = z.string().refine((s) => isUuid(s) && s.length === 36, { message: 'must be a hyphenated UUID' });
const Optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

/** `DateTime<Utc>` as serde reads it: RFC 3339 with any offset and up to nine fractional digits. */
const Rfc3339 = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 time such as 2025-10-25T10:30:00.123456789Z');

const OriginalSession = z.object({
  id: Uuid,
  agent_name: z.string(),
  purpose: z.string(),
  context: z.object({
    issue_number: Optional(z.number().int().nonnegative()),
    current_phase: z.enum(PHASES),
    worktree_path: Optional(z.string()),
  }),
  created_at: Rfc3339,
  status: z.enum(['Active', 'HandedOff', 'Completed', 'Failed']),
  parent_session: Optional(Uuid),
  child_sessions: z.array(Uuid),
  handoff_to: Optional(z.string()),
  error_message: Optional(z.string()),
});

/** One session as the original stores it (fields it may leave out are optional). */
export type OriginalSession = z.infer<typeof OriginalSession>;

/** The original's whole database: `{ "sessions": [...], "version": 1 }`. */
export interface OriginalStore {
  sessions: OriginalSession[];
}

/**
 * Reads the bytes of an original `sessions.json`. Throws `INVALID_INPUT` naming the file and, for
 * a session that does not fit, the session (by id, or by its place in the array) and the field:
 * malformed JSON, a `version` other than 1, an unknown status or phase, a non-UUID id, a missing
 * required field.
 */
export function parseOriginalStore(bytes: Buffer, path: string): OriginalStore {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalid(path, [`not JSON: ${(error as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(path, ['not a JSON object with "sessions" and "version"']);
  const { sessions, version } = raw as { sessions?: unknown; version?: unknown };
  if (version !== 1) throw invalid(path, [`version ${JSON.stringify(version)} is not one this library knows (1)`]);
  if (!Array.isArray(sessions)) throw invalid(path, ['"sessions" is not an array']);
  const parsed: OriginalSession[] = [];
  const problems: string[] = [];
  sessions.forEach((session: unknown, index) => {
    const result = OriginalSession.safeParse(session);
    if (result.success) parsed.push(result.data);
    else for (const issue of result.error.issues) problems.push(`${nameOf(session, index)}: ${issue.path.join('.') || '(record)'}: ${issue.message}`);
  });
  if (problems.length > 0) throw invalid(path, problems);
  return { sessions: parsed };
}

/** How a session is named in a message: its id when it has a usable one, else its place. */
export function nameOf(session: unknown, index: number): string {
  const id = (session as { id?: unknown } | null)?.id;
  return typeof id === 'string' && isUuid(id) ? `session ${id}` : `sessions[${index}]`;
}

/** The one error a refused import throws: every problem found, the first in the message. */
export function invalid(path: string, problems: string[]): SessionError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return new SessionError('INVALID_INPUT', `cannot import ${path}: ${problems[0]}${more}; nothing was written`, { issues: problems });
}
