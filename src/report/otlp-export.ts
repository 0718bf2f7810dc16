import type { Session } from '../domain/session.js';
import { SessionError } from '../errors.js';
import type { SessionReads } from '../query/session-reads.js';
import type { TranscriptStore } from '../store/transcript-store.js';
import { readableSpan } from './otlp-spans.js';
import { addToSummary, emptySummary, pipelineSpan, pipelineSpanOf, sessionSpans, toolSpans, type PipelineSummary, type TraceSpan } from './trace-spans.js';

/** Where and how spans are sent: OTLP over HTTP (JSON), as every OpenTelemetry collector, Jaeger, Tempo, Langfuse and Phoenix take it. */
export interface OtlpTarget {
  /** The traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  endpoint: string;
  /** Headers of each request (an API key). */
  headers?: Record<string, string>;
  /** `service.name` of the spans' resource (default `miyabi-session-manager`). */
  serviceName?: string;
  /** A request's timeout in ms (default 10 000). */
  timeoutMs?: number;
}

/** Options of {@link exportTraces}. */
export interface TraceExportOptions extends OtlpTarget {
  /** Only the sessions created at or after this instant (ISO 8601). */
  since?: string;
  /** Also a span for each tool call of each stored conversation (reads every conversation; default false). */
  toolSpans?: boolean;
  /** Spans a request holds (default 512). */
  batchSize?: number;
}

/** What an export sent. */
export interface TraceExportReport {
  spans: number;
  /** Pipelines a span was sent for (one trace each). */
  traces: number;
}

/** Sends spans, a batch at a time. */
export interface SpanSink {
  send(spans: TraceSpan[]): Promise<void>;
  close(): Promise<void>;
}

/** The packages an OTLP export loads when it runs (optional peers: most users never export). */
const PACKAGES = '@opentelemetry/exporter-trace-otlp-http@^0.223 @opentelemetry/resources@^2.12 @opentelemetry/api@^1.9';

/**
 * A sink sending spans with OpenTelemetry's own OTLP/HTTP exporter. Throws `NOT_FOUND` when the
 * optional packages are not installed; a batch the endpoint refuses or never answers rejects
 * with `STORAGE` (the exporter's own retries spent).
 */
export async function otlpSink(target: OtlpTarget): Promise<SpanSink> {
  let exporterModule: typeof import('@opentelemetry/exporter-trace-otlp-http');
  let resources: typeof import('@opentelemetry/resources');
  try {
    [exporterModule, resources] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources')]);
  } catch (error) {
    throw new SessionError('NOT_FOUND', `exporting traces needs the optional packages ${PACKAGES}: npm install them beside this one`, { cause: error });
  }
  const exporter = new exporterModule.OTLPTraceExporter({ url: target.endpoint, headers: target.headers ?? {}, timeoutMillis: target.timeoutMs ?? 10_000 });
  const resource = resources.resourceFromAttributes({ 'service.name': target.serviceName ?? 'miyabi-session-manager' });
  return {
    send: (spans) =>
      new Promise((resolve, reject) => {
        exporter.export(spans.map((span) => readableSpan(span, resource)), (result) => {
          if (result.code === 0) resolve();
          else reject(new SessionError('STORAGE', `sending ${spans.length} spans to ${target.endpoint} failed: ${result.error?.message ?? 'refused'}`, { cause: result.error }));
        });
      }),
    close: () => exporter.shutdown(),
  };
}

/**
 * Sends the spans of a store's pipelines to an OTLP endpoint (see trace-spans.ts for what they
 * are): each ended session's, its agent run's (and, with `toolSpans`, its tool calls'), and
 * each pipeline's once none of its sessions is Active. Sessions are read as a stream in spawn
 * order, in memory that holds each session's root id and a summary a pipeline, not the sessions
 * themselves (about 100 bytes a session). Ids derive from
 * session ids: exporting again sends the same spans. Throws as {@link otlpSink}.
 */
export async function exportTraces(reads: SessionReads, transcripts: TranscriptStore, options: TraceExportOptions): Promise<TraceExportReport> {
  return exportTracesTo(reads, transcripts, await otlpSink(options), options);
}

/**
 * A session's spans (see `sessionSpans`) and, given where its conversation is stored, a span
 * for each of its tool calls and the model on its run's span.
 */
export async function spansOfSession(session: Session, root: string, transcripts: TranscriptStore | null): Promise<TraceSpan[]> {
  const spans = sessionSpans(session, root);
  // A session its agent ran has two spans; only such a run has a conversation.
  if (transcripts === null || spans.length < 2) return spans;
  const stored = await transcripts.load(session.id).catch(() => null);
  if (stored === null) return spans;
  const tools = toolSpans(session, root, stored);
  if (tools.model !== null) spans[1]!.attributes['gen_ai.request.model'] = tools.model;
  return [...spans, ...tools.spans];
}

/** {@link exportTraces} into any sink (the sink is closed at the end). */
export async function exportTracesTo(reads: SessionReads, transcripts: TranscriptStore, sink: SpanSink, options: Omit<TraceExportOptions, keyof OtlpTarget> = {}): Promise<TraceExportReport> {
  const batchSize = options.batchSize ?? 512;
  const rootOf = new Map<string, string>();
  // Each pipeline as the stream saw it: its root (when streamed) and a summary of its sessions.
  const pipelines = new Map<string, { root: Session | null; summary: PipelineSummary | null }>();
  let batch: TraceSpan[] = [];
  const report: TraceExportReport = { spans: 0, traces: 0 };
  const push = async (spans: TraceSpan[]) => {
    batch.push(...spans);
    report.spans += spans.length;
    if (batch.length >= batchSize) {
      const full = batch;
      batch = [];
      await sink.send(full);
    }
  };
  try {
    for await (const session of reads.stream(options.since === undefined ? {} : { createdSince: options.since })) {
      const root = session.parentSession === null ? session.id : (rootOf.get(session.parentSession) ?? (await reads.rootOf(session.id)) ?? session.id);
      rootOf.set(session.id, root);
      const pipeline = pipelines.get(root) ?? { root: null, summary: null };
      pipelines.set(root, pipeline);
      if (session.id === root) {
        pipeline.root = session;
        pipeline.summary = emptySummary(session);
      }
      // Members spawn after their root: a pipeline whose root was not streamed is read whole at the end.
      if (pipeline.summary !== null) addToSummary(pipeline.summary, session);
      await push(await spansOfSession(session, root, options.toolSpans === true ? transcripts : null));
    }
    for (const [root, seen] of pipelines) {
      let span: TraceSpan | null;
      if (seen.root !== null && seen.summary !== null) span = pipelineSpanOf(seen.root, seen.summary);
      else {
        const members = await reads.pipeline(root);
        const rootSession = members.get(root);
        span = rootSession === undefined ? null : pipelineSpan(rootSession, members.values());
      }
      if (span === null) continue;
      report.traces += 1;
      await push([span]);
    }
    if (batch.length > 0) await sink.send(batch);
  } finally {
    await sink.close();
  }
  return report;
}
