import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { TraceSpan } from './trace-spans.js';

/*
 * Our spans as OpenTelemetry's exporters take them. Kept apart from otlp-export.ts (and out of
 * the package's index) so that the public types never name an optional package.
 */

/** The scope our spans carry. */
const SCOPE = { name: 'miyabi-session-manager' };

/** A span as OpenTelemetry's exporters take it (`ReadableSpan`), ids and times as given. */
export function readableSpan(span: TraceSpan, resource: ReadableSpan['resource']): ReadableSpan {
  const context = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1 };
  const start = hrTime(span.startMs);
  const end = hrTime(span.endMs);
  return {
    name: span.name,
    kind: span.kind === 'client' ? 2 : 0,
    spanContext: () => context,
    ...(span.parentSpanId === null ? {} : { parentSpanContext: { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1 } }),
    startTime: start,
    endTime: end,
    duration: hrTime(span.endMs - span.startMs),
    status: { code: span.status.code === 'error' ? 2 : span.status.code === 'ok' ? 1 : 0, ...(span.status.message === undefined ? {} : { message: span.status.message }) },
    attributes: span.attributes,
    links: span.links.map((link) => ({ context: { traceId: link.traceId, spanId: link.spanId, traceFlags: 1 }, attributes: link.attributes })),
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

