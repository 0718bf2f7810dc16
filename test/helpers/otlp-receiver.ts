import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP/HTTP (JSON) request carried it, its attributes as plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, string | number | boolean> }>;
  status: { code?: number; message?: string };
  service: string;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
const valueOf = (value: AnyValue): string | number | boolean =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue ?? value.boolValue ?? '');
const attributesOf = (list: Array<{ key: string; value: AnyValue }> | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

/**
 * A local OTLP/HTTP receiver (127.0.0.1, a free port) that keeps every span posted to
 * `/v1/traces` as JSON, and answers as a collector does. Closes itself with `close()`.
 */
export async function startOtlpReceiver(): Promise<{ endpoint: string; spans: ReceivedSpan[]; requests: number; headers: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const received = { spans: [] as ReceivedSpan[], requests: 0, headers: [] as Array<Record<string, unknown>> };
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      received.requests += 1;
      received.headers.push({ ...request.headers });
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: AnyValue }> }; scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
      for (const resourceSpans of parsed.resourceSpans) {
        const service = String(attributesOf(resourceSpans.resource.attributes)['service.name'] ?? '');
        for (const scope of resourceSpans.scopeSpans) {
          for (const span of scope.spans) {
            received.spans.push({
              traceId: span['traceId'] as string,
              spanId: span['spanId'] as string,
              parentSpanId: (span['parentSpanId'] as string | undefined) ?? '',
              name: span['name'] as string,
              kind: span['kind'] as number,
              startTimeUnixNano: String(span['startTimeUnixNano']),
              endTimeUnixNano: String(span['endTimeUnixNano']),
              attributes: attributesOf(span['attributes'] as Array<{ key: string; value: AnyValue }>),
              links: ((span['links'] as Array<{ traceId: string; spanId: string; attributes?: Array<{ key: string; value: AnyValue }> }> | undefined) ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributesOf(l.attributes) })),
              status: (span['status'] as { code?: number; message?: string } | undefined) ?? {},
              service,
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    get spans() {
      return received.spans;
    },
    get requests() {
      return received.requests;
    },
    headers: received.headers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
