import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { workerModule } from '../../process/worker-module.js';
import type { DecodedLine, Verification } from './line-codec.js';
import { LogScanner, type LogFinding, type LogRecord } from './log-scanner.js';
import { readLogChunks } from './read-log-chunks.js';

export type { DecodedLine } from './line-codec.js';

/**
 * A module that packs decoded lines for the trip from a decoding worker back to the reading
 * thread (copying whole events between threads costs about what parsing them does): it exports
 * `packDecodedLine`, appending a line to the flat array sent back. Its creator unpacks.
 */
export interface LinePacker {
  packDecodedLine(decoded: DecodedLine, packed: unknown[]): void;
}

/** A log this big (in bytes) pays for worker threads to decode it: below it, starting them costs more than they save. */
export const WORKER_AFTER_BYTES = 8 * 2 ** 20;

/**
 * Workers that decode a big log. Two, even on two cores: the reading thread's share (reading,
 * checking the order, judging or writing) is a fraction of theirs, and two workers keep both
 * cores busy while it waits.
 */
const DECODE_WORKERS = 2;

/** How many worker threads should decode the log at `path`: none below {@link WORKER_AFTER_BYTES}. */
export async function decodeWorkersFor(path: string): Promise<number> {
  const size = await stat(path).then((s) => s.size, () => 0);
  return size < WORKER_AFTER_BYTES ? 0 : DECODE_WORKERS;
}

/** How a read's lines are decoded in workers: how many, how much they check, the packer module they load, and its unpacking here. */
export interface WorkerDecoding {
  workers: number;
  /** What the workers check of each line (see Verification); `'schema'` unless given. */
  verify?: Verification;
  /** The URL of a {@link LinePacker} module a worker thread can load (see workerModule). */
  packer: URL;
  /** The lines of one packed answer, in order. */
  unpack(packed: unknown[]): DecodedLine[];
}

/** What a decoding worker is started with: the packer module to load and how much to check. */
export interface DecoderSetup {
  packer: string;
  verify: Verification;
}

/** Whole lines of the log, as posted to a worker: `length` bytes of `bytes`, each ending in `\n`. */
export interface LinesToDecode {
  id: number;
  bytes: ArrayBuffer;
  length: number;
}

/** A worker's answer: the lines packed, and each one's length in bytes with its `\n`. */
export interface DecodedLines {
  id: number;
  packed: unknown[];
  lengths: Int32Array;
}

const NEWLINE = 0x0a;
/** Chunks each worker may hold at once: one it decodes, one waiting, so it never idles. */
const CHUNKS_PER_WORKER = 2;

/** A read of the log whose lines worker threads decode: the same records, findings and tail as a tolerant scan's. */
export interface DecodedLogRead {
  /** The log's size as the read began: progress is a batch's last `end` out of it. */
  size: number;
  /** Whole transactions, in the log's order, each event as the packer sent it. */
  records: AsyncIterable<LogRecord[]>;
  /** Where the valid part ends (the last whole line's number, the offset past it) and what follows it; call it once the records are read. */
  end(): { line: number; offset: number; pendingBytes: number; pendingLines: number };
}

/**
 * Reads the log at `path` as a scan does, with the decoding of its lines (checksum, JSON and,
 * verifying `'schema'`, the schema: nearly all of the work) done by worker threads, each event
 * coming back as `decoding`'s packer sends it. This thread reads the file, cuts it at line ends and hands
 * the chunks out in turn; it takes the answers back in the file's order and runs them through
 * the scan's own sequence and transaction checks, so lines, offsets and findings are the scan's.
 * Memory holds a few chunks per worker at any size. Given `onFinding` (the audit), the scan is
 * tolerant: findings go there. Without it, the first bad line throws `CORRUPT_LOG`, as a strict scan does.
 *
 * This thread decodes nothing itself: on two cores, two workers and a thread that only reads
 * and judges were faster than a thread that also decoded whenever the workers were busy (it
 * then kept them waiting for their next chunk).
 */
export async function readLogInWorkers(path: string, decoding: WorkerDecoding, onFinding?: (finding: LogFinding) => void): Promise<DecodedLogRead> {
  const { workers } = decoding;
  const verify = decoding.verify ?? 'schema';
  const size = await stat(path).then((s) => s.size, () => 0);
  const scanner = new LogScanner(path, undefined, onFinding, verify);
  async function* records(): AsyncGenerator<LogRecord[]> {
    const pool = new DecoderPool(workers, { packer: decoding.packer.href, verify });
    // Chunks in the file's order, as the workers will answer them.
    const queue: Array<Promise<DecodedLines>> = [];
    // Unpacked only as they are taken: packed, an answer that waits its turn holds a few arrays, not an object an event.
    const scanned = async () => {
      const { packed, lengths } = await queue.shift()!;
      return scanner.pushDecoded(decoding.unpack(packed), lengths);
    };
    try {
      let carry = Buffer.alloc(0);
      for await (const chunk of readLogChunks(path, 0, size)) {
        const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
        const cut = data.lastIndexOf(NEWLINE) + 1;
        // A copy: the chunk's memory may move to a worker.
        carry = Buffer.from(data.subarray(cut));
        if (cut === 0) continue;
        queue.push(pool.decode(data, cut));
        if (queue.length < workers * CHUNKS_PER_WORKER) continue;
        const batch = await scanned();
        if (batch.length > 0) yield batch;
      }
      while (queue.length > 0) {
        const batch = await scanned();
        if (batch.length > 0) yield batch;
      }
      // An unfinished last line: held, as a scan holds it, for the tail to report.
      scanner.push(carry);
    } finally {
      // Answers no one waits for any more must not reject unheard.
      for (const answer of queue) answer.catch(() => {});
      await pool.close();
    }
  }
  const end = () => {
    const { line, committedEnd, pendingBytes, pendingLines } = scanner.tail();
    return { line, offset: committedEnd, pendingBytes, pendingLines };
  };
  return { size, records: records(), end };
}

/** Worker threads that decode chunks of whole lines. */
class DecoderPool {
  private readonly workers: Array<{ worker: Worker; holds: number }> = [];
  private readonly waiting = new Map<number, { resolve: (answer: DecodedLines) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(count: number, setup: DecoderSetup) {
    for (let i = 0; i < count; i += 1) {
      const entry = { worker: new Worker(workerModule('./decode-worker.js', import.meta.url), { workerData: setup }), holds: 0 };
      entry.worker.on('message', (answer: DecodedLines) => {
        entry.holds -= 1;
        const waiter = this.waiting.get(answer.id);
        this.waiting.delete(answer.id);
        waiter?.resolve(answer);
      });
      entry.worker.on('error', (error) => this.fail(error));
      entry.worker.on('exit', (code) => this.fail(new Error(`a worker decoding the log exited (code ${code})`)));
      this.workers.push(entry);
    }
  }

  /** Has the worker that holds fewest chunks decode the first `length` bytes of `data` (whole lines); `data` is not to be used again. */
  decode(data: Buffer, length: number): Promise<DecodedLines> {
    if (this.failure !== null) return Promise.reject(this.failure);
    // Only memory of its own moves: a small buffer may share Node's pool with others.
    const owned = data.byteOffset === 0 && data.buffer.byteLength === data.length && data.buffer instanceof ArrayBuffer;
    const bytes = owned ? (data.buffer as ArrayBuffer) : new Uint8Array(data.subarray(0, length)).buffer;
    const id = this.nextId++;
    const answer = new Promise<DecodedLines>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    const entry = this.workers.reduce((a, b) => (b.holds < a.holds ? b : a));
    entry.holds += 1;
    entry.worker.postMessage({ id, bytes, length } satisfies LinesToDecode, [bytes]);
    return answer;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.fail(new Error('the read is over'));
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
