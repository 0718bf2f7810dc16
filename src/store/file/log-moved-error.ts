import { SessionError } from '../../errors.js';

/**
 * `CONFLICT` from an open of the file store: what it read of the log without the lock was cut
 * off meanwhile (a writer undid a write that failed, a full disk), after it was folded. The
 * state it folded holds events the log does not; a new open from the start reads the log as
 * it is. `SessionManager.open` does that itself.
 */
export class LogMovedError extends SessionError {
  constructor(location: string, offset: number) {
    super('CONFLICT', `${location} was cut below byte ${offset} while it was opened (a write that failed was undone); open it again`);
    this.name = 'LogMovedError';
  }
}
