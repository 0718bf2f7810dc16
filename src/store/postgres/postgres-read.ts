import { SessionError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import { schemaRefusal } from '../../events/schema-refusal.js';
import type { ReadEnd, ReadOptions, StoredRecord } from '../event-store.js';

/**
 * One read-only pass over a PostgreSQL store's events, in pages, checked as the file store's
 * reader checks its lines: `seq` gap-free from where the pass starts, and with `verify: 'schema'`
 * every event against its schema. A problem throws `CORRUPT_LOG`, or with `onFinding` (the audit)
 * is reported and stepped over. A record's `line`, `offset` and `end` are its `seq`. Every row in
 * the table is committed, so there is never an unfinished transaction to hold back.
 */
export class PostgresRead {
  private lastSeq: number;

  constructor(
    from: number,
    private readonly top: number,
    private readonly location: string,
    private readonly options: ReadOptions,
    private readonly page: (after: number) => Promise<SessionEvent[]>,
  ) {
    this.lastSeq = from;
  }

  /** The records after `from`, up to the last seq there was when the pass began. */
  async *records(): AsyncGenerator<StoredRecord[]> {
    for (let after = this.lastSeq; after < this.top; ) {
      const events = await this.page(after);
      if (events.length === 0) return;
      const batch: StoredRecord[] = [];
      for (const event of events) {
        const record = this.check(event);
        if (record !== null) batch.push(record);
        this.lastSeq = event.seq;
      }
      after = events.at(-1)!.seq;
      if (batch.length > 0) yield batch;
    }
  }

  /** Where the pass got to. */
  end(): ReadEnd {
    const seq = this.lastSeq;
    return { cursor: { seq, position: {} }, line: seq, offset: seq, pendingBytes: 0, pendingLines: 0 };
  }

  private check(event: SessionEvent): StoredRecord | null {
    const seq = event.seq;
    const at = { line: seq, offset: seq };
    if (seq !== this.lastSeq + 1) this.problem(at, `seq ${seq} where ${this.lastSeq + 1} was expected (a gap, a duplicate or a reordering)`);
    if (this.options.verify === 'schema') {
      const refusal = schemaRefusal(event);
      if (refusal !== null) {
        this.problem(at, refusal);
        return null;
      }
    }
    return { event, line: seq, offset: seq, end: seq };
  }

  /** Reports a problem and goes on (the audit), or throws `CORRUPT_LOG`. */
  private problem(at: { line: number; offset: number }, message: string): void {
    if (this.options.onFinding === undefined) {
      throw new SessionError('CORRUPT_LOG', `${this.location} seq ${at.line}: ${message}`, { position: { file: this.location, ...at } });
    }
    this.options.onFinding({ ...at, message });
  }
}
