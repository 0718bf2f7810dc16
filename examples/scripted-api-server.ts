import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the fake Messages API. */
export type ScriptedReply =
  /**
   * A text answer, after `delayMs` (a model that takes its time); `outputTokens` sets the usage
   * the answer reports (default 7), which is what the CLI prices the run by.
   */
  | { text: string; delayMs?: number; outputTokens?: number }
  /** The model asks to run a tool (for example `Bash` with `{ command }`); the CLI runs it and asks again. */
  | { toolUse: { name: string; input: Record<string, unknown> } }
  | { status: number; error: { type: string; message: string } }
  | { hang: true };

/** A request the server received. */
export interface RecordedRequest {
  path: string;
  body: Record<string, unknown>;
}

/**
 * A local HTTP server on 127.0.0.1 that speaks enough of the Anthropic Messages API for the
 * real Claude Code CLI to run whole sessions: streamed (SSE) and plain replies, count_tokens,
 * and scripted errors or hangs. `reply` picks the answer for each /v1/messages request.
 * The demo and the runner tests point `ANTHROPIC_BASE_URL` at it; its replies are scripted,
 * no model runs.
 */
export async function startScriptedApi(reply: (request: RecordedRequest, index: number) => ScriptedReply) {
  const requests: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const path = req.url ?? '/';
      if (req.method === 'POST' && path.startsWith('/v1/messages/count_tokens')) return json(res, 200, { input_tokens: 10 });
      if (req.method !== 'POST' || !path.startsWith('/v1/messages')) {
        return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no ${path}` } });
      }
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      const request = { path, body };
      requests.push(request);
      const answer = reply(request, requests.length - 1);
      if ('hang' in answer) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return undefined;
      }
      if ('status' in answer) return json(res, answer.status, { type: 'error', error: answer.error });
      const block: ContentBlock = 'toolUse' in answer
        ? { type: 'tool_use', id: `toolu_${requests.length}`, name: answer.toolUse.name, input: answer.toolUse.input }
        : { type: 'text', text: answer.text };
      const outputTokens = 'outputTokens' in answer && answer.outputTokens !== undefined ? answer.outputTokens : 7;
      const send = () => (body['stream'] === true ? stream(res, String(body['model']), block, outputTokens) : json(res, 200, message(String(body['model']), block, outputTokens)));
      if ('delayMs' in answer && answer.delayMs !== undefined) {
        hanging.add(res);
        const timer = setTimeout(() => {
          hanging.delete(res);
          send();
        }, answer.delayMs);
        res.on('close', () => clearTimeout(timer));
        return undefined;
      }
      return send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Never keep a test process alive for this server.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close(): Promise<void> {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function message(model: string, block: ContentBlock, outputTokens = 7) {
  return {
    id: 'msg_fake', type: 'message', role: 'assistant', model, content: [block],
    stop_reason: block.type === 'tool_use' ? 'tool_use' : 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: outputTokens },
  };
}

function stream(res: ServerResponse, model: string, block: ContentBlock, outputTokens = 7): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const start = message(model, block, outputTokens);
  send('message_start', { type: 'message_start', message: { ...start, content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } });
  if (block.type === 'text') {
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    for (const piece of block.text.match(/.{1,16}/gs) ?? ['']) {
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    }
  } else {
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { ...block, input: {} } });
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
  }
  send('content_block_stop', { type: 'content_block_stop', index: 0 });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: start.stop_reason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

/** The text of the last user message of a Messages API request (string or text blocks). */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Array<{ role?: string; content?: unknown }>) : [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (typeof last?.content === 'string') return last.content;
  if (!Array.isArray(last?.content)) return '';
  return (last.content as Array<{ type?: string; text?: string }>).filter((b) => b.type === 'text').map((b) => b.text ?? '').join('\n');
}
