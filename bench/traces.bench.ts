import { ROOT_CONTEXT, trace, type Link, type Span } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { readFileSessions } from '../src/query/session-reads.js';
import { exportTracesTo, type SpanSink } from '../src/report/otlp-export.js';
import { readableSpan } from '../src/report/otlp-spans.js';
import type { TraceSpan } from '../src/report/trace-spans.js';
import { FileTranscripts } from '../src/store/file/file-transcripts.js';
import { summarize, type Row } from './measure.js';
import { seededStore } from './seeded-store.js';

const BATCH = 512;
const RESOURCE = resourceFromAttributes({ 'service.name': 'miyabi-session-manager' });

/** A sink that encodes each batch as the OTLP/HTTP exporter would send it (JSON), and counts it. */
function encodingSink(count: { spans: number; bytes: number }): SpanSink {
  return {
    send: async (spans) => {
      const body = JsonTraceSerializer.serializeRequest(spans.map((span) => readableSpan(span, RESOURCE)));
      count.spans += spans.length;
      count.bytes += body?.length ?? 0;
    },
    close: async () => undefined,
  };
}

/** The same spans built with the SDK's tracer (start, attributes, links, status, end at the given times), encoded a batch at a time as its batch processor would hand them over. */
function sdkBuildAndEncode(spans: readonly TraceSpan[]): number {
  const ended: ReadableSpan[] = [];
  let bytes = 0;
  const flush = () => {
    bytes += JsonTraceSerializer.serializeRequest(ended.splice(0))?.length ?? 0;
  };
  const collector: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => {
      ended.push(span);
      if (ended.length >= BATCH) flush();
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const tracer = new TracerProvider({ resource: RESOURCE, spanProcessors: [collector] }).getTracer('miyabi-session-manager');
  const open = new Map<string, Span>();
  for (const span of spans) {
    const parent = span.parentSpanId === null ? undefined : open.get(span.parentSpanId);
    const context = parent === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, parent);
    const links: Link[] = span.links.map((link) => ({ context: { traceId: link.traceId, spanId: link.spanId, traceFlags: 1 }, attributes: link.attributes }));
    const built = tracer.startSpan(span.name, { kind: span.kind === 'client' ? 2 : 0, attributes: span.attributes, links, startTime: span.startMs }, context);
    built.setStatus({ code: span.status.code === 'error' ? 2 : span.status.code === 'ok' ? 1 : 0, ...(span.status.message === undefined ? {} : { message: span.status.message }) });
    built.end(span.endMs);
    open.set(span.spanId, built);
  }
  flush();
  return bytes;
}

/**
 * The trace export row: every span of a store of `size` sessions (pipeline mix, a quarter
 * Active) read from the store, built and encoded as OTLP/HTTP JSON (the request bodies, not
 * sent), against building the same spans with the OpenTelemetry SDK's tracer from memory and
 * encoding them with the same serializer (the spans handed to it ready-made: its input costs it
 * nothing). Spans per second, alternating, default options.
 */
export async function traceBenches(runs: number, size: number): Promise<Row[]> {
  const store = await seededStore(size, 0.25);
  try {
    // The baseline's input: the spans of the first pipelines, as plain data (the same spans ours sends).
    const sample: TraceSpan[] = [];
    await readFileSessions(store.dir, (reads) =>
      exportTracesTo(reads, new FileTranscripts(store.dir), { send: async (spans) => void (sample.length < 200_000 && sample.push(...spans)), close: async () => undefined }),
    );
    const ours: number[] = [];
    const baseline: number[] = [];
    let spansSent = 0;
    for (let round = 0; round <= runs; round += 1) {
      const count = { spans: 0, bytes: 0 };
      let start = performance.now();
      await readFileSessions(store.dir, (reads) => exportTracesTo(reads, new FileTranscripts(store.dir), encodingSink(count)));
      const oursRate = count.spans / ((performance.now() - start) / 1000);
      start = performance.now();
      sdkBuildAndEncode(sample);
      const baseRate = sample.length / ((performance.now() - start) / 1000);
      // The first round warms both up.
      if (round === 0) continue;
      ours.push(oursRate);
      baseline.push(baseRate);
      spansSent = count.spans;
    }
    const o = summarize(ours);
    const b = summarize(baseline);
    return [
      {
        name: `trace export (\`export --format otlp\` without sending), ${store.sessions.toLocaleString('en-US')} sessions, ${spansSent.toLocaleString('en-US')} spans`,
        unit: 'spans/s',
        ours: o,
        baseline: b,
        baselineName: `build the same spans with the OpenTelemetry SDK's tracer and encode them (${sample.length.toLocaleString('en-US')} spans, from memory)`,
        ratio: o.median / b.median,
        target: '≥ 0.5',
      },
    ];
  } finally {
    await store.done();
  }
}
