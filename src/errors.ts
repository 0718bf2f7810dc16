/**
 * Stable error codes. Callers branch on `code`, never on message text.
 *
 * - `NOT_FOUND`: no session with that id.
 * - `ALREADY_EXISTS`: a session with that id exists already.
 * - `INVALID_TRANSITION`: the session machine refuses the move (e.g. completing a HandedOff session).
 * - `INVALID_INPUT`: an argument failed validation; nothing was written.
 * - `CONFLICT`: another writer changed the session first and the retry budget ran out.
 * - `CORRUPT_LOG`: the event log holds a line that does not parse, validate or fit the sequence.
 * - `CORRUPT_CHECKPOINT`: `sessions.json` cannot be read back (it is rebuilt, so this is rarely thrown).
 * - `LOCKED`: the store lock could not be taken within the timeout.
 * - `CLOSED`: the manager or store was used after `close()`.
 * - `STORAGE`: the file system refused a read or write (ENOSPC, EACCES, …); see `cause`.
 * - `SPAWN_FAILED`: the agent process could not be started.
 * - `FOREIGN_STORE`: the store's sessions.json was not written by this library (the original's store):
 *   nothing was read from it or written; import it with `importOriginalStore`.
 */
export type SessionErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_TRANSITION'
  | 'INVALID_INPUT'
  | 'CONFLICT'
  | 'CORRUPT_LOG'
  | 'CORRUPT_CHECKPOINT'
  | 'LOCKED'
  | 'CLOSED'
  | 'STORAGE'
  | 'SPAWN_FAILED'
  | 'FOREIGN_STORE';

/** Where in the log a `CORRUPT_LOG` finding sits. */
export interface LogPosition {
  file: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
}

/** Extra facts an error carries for debugging. */
export interface SessionErrorDetails {
  sessionId?: string;
  position?: LogPosition;
  issues?: string[];
  cause?: unknown;
}

/**
 * The one error class of this library. `code` is stable; `message` names the thing
 * (session id, file and line, path); `cause` keeps the underlying error.
 *
 * @example
 * try { await manager.completeSession(id) }
 * catch (e) { if (e instanceof SessionError && e.code === 'INVALID_TRANSITION') … }
 */
export class SessionError extends Error {
  /** The stable code to branch on. */
  readonly code: SessionErrorCode;
  /** The session concerned, when there is one. */
  readonly sessionId?: string;
  /** The log line concerned, for `CORRUPT_LOG`. */
  readonly position?: LogPosition;
  /** The individual validation failures, for `INVALID_INPUT`. */
  readonly issues?: string[];

  constructor(code: SessionErrorCode, message: string, details: SessionErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SessionError';
    this.code = code;
    if (details.sessionId !== undefined) this.sessionId = details.sessionId;
    if (details.position !== undefined) this.position = details.position;
    if (details.issues !== undefined) this.issues = details.issues;
  }
}

/** True when `error` is a {@link SessionError}, optionally with the given code. */
export function isSessionError(error: unknown, code?: SessionErrorCode): error is SessionError {
  return error instanceof SessionError && (code === undefined || error.code === code);
}

/** Wraps a file-system error as a `STORAGE` error that names the operation and path. */
export function storageError(operation: string, path: string, cause: unknown): SessionError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SessionError('STORAGE', `${operation} ${path} failed: ${reason}`, { cause });
}
