import type { SessionErrorCode } from '../errors.js';

/** Exit codes of the CLI, stable for scripts. */
export const EXIT = {
  OK: 0,
  /** `audit` found problems, or `replay` found sessions.json differing from the log. */
  FINDINGS: 1,
  /** Bad command line. */
  USAGE: 2,
  NOT_FOUND: 3,
  /** Refused: invalid input, invalid transition, already exists, conflict, a store to import first. */
  REFUSED: 4,
  /** The log (or checkpoint) is damaged. */
  CORRUPT: 5,
  /** The store could not be used: storage error, lock timeout. */
  UNAVAILABLE: 6,
  /** A bug: an error that is not a SessionError. */
  INTERNAL: 70,
} as const;

/** The exit code for a SessionError code. */
export function exitCodeOf(code: SessionErrorCode): number {
  switch (code) {
    case 'NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'INVALID_INPUT':
    case 'INVALID_TRANSITION':
    case 'ALREADY_EXISTS':
    case 'CONFLICT':
    case 'FOREIGN_STORE':
      return EXIT.REFUSED;
    case 'CORRUPT_LOG':
    case 'CORRUPT_CHECKPOINT':
      return EXIT.CORRUPT;
    case 'STORAGE':
    case 'LOCKED':
    case 'CLOSED':
    case 'SPAWN_FAILED':
      return EXIT.UNAVAILABLE;
  }
}
