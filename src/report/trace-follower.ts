import type { SessionReads } from '../query/session-reads.js';
import type { EventStore, StoreCursor } from '../store/event-store.js';
import type { TranscriptStore } from '../store/transcript-store.js';
import { otlpSink, spansOfSession, type OtlpTarget, type SpanSink } from './otlp-export.js';
import { pipelineSpan, type TraceSpan } from './trace-spans.js';

/** The events that end a session (a handoff ends the parent). */
const ENDINGS = new Set(['SessionHandedOff', 'SessionCompleted', 'SessionFailed']);

/** Options of {@link followTraces}. */
export interface TraceFollowOptions extends OtlpTarget {
  /** Also a span for each tool call of each stored conversation (default false). */
  toolSpans?: boolean;
  /** Where to start: spans of sessions that end after this point (default: where the store stands now). */
  from?: StoreCursor;
  /** Told when the store could not be read or a batch not sent (tried again at the next change); default: nothing. */
  onError?: (error: Error) => void;
  /** A sink of your own instead of OTLP/HTTP (tests, another transport). */
  sink?: SpanSink;
}

/** A running {@link followTraces}. */
export interface TraceFollower {
  /** Resolves once everything appended so far has been looked at and its spans sent. */
  flush(): Promise<void>;
  /** Stops following, sends what is pending and closes the sink. */
  stop(): Promise<void>;
}

/**
 * Sends spans live as the store moves: following it (file watching, LISTEN/NOTIFY), it reads
 * only what was appended, and for each session that ended there sends its spans (as
 * `exportTraces` builds them) and, once its pipeline has no Active session, the pipeline's.
 * `read` answers from the store as it stands (as `serve` reads it). A batch the endpoint
 * refuses is reported to `onError` and tried again, from where it started, at the next change
 * (the same spans, with the same ids: a collector keeps one of each).
 */
export async function followTraces(
  store: EventStore,
  read: <T>(work: (reads: SessionReads) => Promise<T>) => Promise<T>,
  transcripts: TranscriptStore,
  options: TraceFollowOptions,
): Promise<TraceFollower> {
  const sink = options.sink ?? (await otlpSink(options));
  let cursor = options.from ?? (await read(async (reads) => reads.cursor));
  // One look at a time, in order: each starts where the one before stopped.
  let looking: Promise<void> = Promise.resolve();
  const look = () => (looking = looking.then(lookOnce, lookOnce));
  const report = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));

  async function lookOnce(): Promise<void> {
    try {
      const ended = new Set<string>();
      const got = await store.readRecords(cursor);
      for await (const batch of got.records) for (const { event } of batch) if (ENDINGS.has(event.type)) ended.add(event.sessionId);
      const next = got.end().cursor;
      const spans = ended.size === 0 ? [] : await read((reads) => spansOf(reads, [...ended]));
      if (spans.length > 0) await sink.send(spans);
      cursor = next;
    } catch (error) {
      report(error);
    }
  }

  async function spansOf(reads: SessionReads, ids: string[]): Promise<TraceSpan[]> {
    const spans: TraceSpan[] = [];
    const finished = new Set<string>();
    for (const session of (await reads.getMany(ids)).values()) {
      const root = (await reads.rootOf(session.id)) ?? session.id;
      spans.push(...(await spansOfSession(session, root, options.toolSpans === true ? transcripts : null)));
      if (session.status !== 'HandedOff') finished.add(root);
    }
    for (const root of finished) {
      const members = await reads.pipeline(root);
      const span = members.has(root) ? pipelineSpan(members.get(root)!, members.values()) : null;
      if (span !== null) spans.push(span);
    }
    return spans;
  }

  const watcher = store.watch(look);
  return {
    flush: () => look(),
    async stop() {
      watcher.stop();
      await look();
      await sink.close();
    },
  };
}
