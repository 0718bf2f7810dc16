import { Worker } from 'node:worker_threads';
import { schemaRefusal } from '../events/schema-refusal.js';
import type { ReadFinding, StoredRecord } from '../store/event-store.js';
import type { SchemaAnswer, SchemaBatch } from './schema-worker.js';
import { workerModule } from '../process/worker-module.js';
import { WORKER_AFTER_BYTES } from '../store/file/worker-log-read.js';

/** Where the audit validates events: `'auto'` in a worker once the log read is big enough to pay for one. */
export type SchemaCheckMode = 'auto' | 'worker' | 'thread';

/** Batches the worker may have to answer at once. */
const BACKLOG = 2;

/** Why each record's event is not a valid event (null when it is one), judged in this thread. */
export function schemaVerdicts(batch: readonly StoredRecord[]): Array<string | null> {
  return batch.map((record) => schemaRefusal(record.event));
}

/**
 * Validates the audit's events against their schema behind its back. Validation is the
 * costliest step of an audit (zod, 40% of its time at 250,000 sessions) and the reading thread
 * has its own work (checksums, JSON, the rules): so on a big log a worker thread validates each
 * batch while the audit goes on, and {@link refused} says at the end which events were not
 * valid. Until {@link taking} turns true (`'auto'`: after 8 MiB of JSON) nothing is taken,
 * and the audit validates each batch itself before it judges it. Events whose JSON the reader
 * does not pass on (an earlier schema version, another store) are validated here at once, as is
 * everything if the worker fails.
 */
export class BackgroundSchemaCheck {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, StoredRecord[]>();
  private readonly found: ReadFinding[] = [];
  private settled: (() => void) | null = null;
  private nextId = 0;
  private bytesRead = 0;

  constructor(private mode: SchemaCheckMode = 'auto') {}

  /**
   * Whether the worker takes a batch now (else the caller validates it first): once it runs,
   * while it has fewer than {@link BACKLOG} batches to answer. The reading thread validates the
   * others itself, so the two share the work and the queue of JSON stays short.
   */
  get taking(): boolean {
    return this.mode === 'worker' && this.waiting.size < BACKLOG && this.startedWorker() !== null;
  }

  /** Counts a batch read, to know when a worker pays in `'auto'`. */
  read(batch: readonly StoredRecord[]): void {
    if (this.mode !== 'auto') return;
    for (const record of batch) this.bytesRead += record.json?.length ?? 0;
    if (this.bytesRead >= WORKER_AFTER_BYTES) this.mode = 'worker';
  }

  /** Hands a batch to the worker (only while it is {@link taking} batches). */
  submit(batch: StoredRecord[]): void {
    const texts: string[] = [];
    const sent: StoredRecord[] = [];
    for (const record of batch) {
      if (record.json === undefined) this.judge(record, schemaRefusal(record.event));
      else {
        texts.push(record.json);
        sent.push(record);
      }
    }
    if (sent.length === 0) return;
    const id = this.nextId++;
    this.waiting.set(id, sent);
    this.worker!.postMessage({ id, text: texts.join('\n') } satisfies SchemaBatch);
  }

  /** Every event handed over that its schema refuses, once the worker has answered for all. */
  async refused(): Promise<ReadFinding[]> {
    if (this.waiting.size > 0) await new Promise<void>((resolve) => (this.settled = resolve));
    return this.found;
  }

  /** Stops the worker, if one was started. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private startedWorker(): Worker | null {
    if (this.worker !== null) return this.worker;
    try {
      this.worker = new Worker(workerModule('./schema-worker.js', import.meta.url));
    } catch {
      this.mode = 'thread';
      return null;
    }
    this.worker.on('message', (answer: SchemaAnswer) => this.answered(answer));
    // A worker that fails leaves its batches to this thread.
    this.worker.on('error', () => this.fallBack());
    this.worker.on('exit', () => this.fallBack());
    return this.worker;
  }

  private answered({ id, refused }: SchemaAnswer): void {
    const sent = this.waiting.get(id);
    if (sent === undefined) return;
    this.waiting.delete(id);
    for (const [index, reason] of refused) this.judge(sent[index]!, reason);
    this.settleIfDone();
  }

  private judge(record: StoredRecord, reason: string | null): void {
    if (reason !== null) this.found.push({ line: record.line, offset: record.offset, message: reason });
  }

  private fallBack(): void {
    if (this.mode === 'thread') return;
    this.mode = 'thread';
    this.worker = null;
    for (const [id, sent] of this.waiting) {
      this.waiting.delete(id);
      for (const record of sent) this.judge(record, schemaRefusal(record.event));
    }
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.waiting.size > 0 || this.settled === null) return;
    this.settled();
    this.settled = null;
  }
}
