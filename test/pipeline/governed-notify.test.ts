import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { SessionManager, approvePipeline, runPipeline } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { pollFor, startChild } from '../helpers/children.js';
import { logBytes, logEvents } from '../helpers/log-files.js';
import { test } from '../helpers/real-claude.js';

/** A webhook receiver on 127.0.0.1: every POST it got (raw body, headers), and how it answers the next. */
async function receiver() {
  const got: Array<{ body: string; headers: IncomingMessage['headers']; status: number | 'hang' }> = [];
  let answer: (n: number) => number | 'hang' = () => 200;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
      const how = answer(got.length);
      got.push({ body, headers: req.headers, status: how });
      if (how === 'hang') return void hanging.add(res);
      res.writeHead(how).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    set answer(next: (n: number) => number | 'hang') {
      answer = next;
    },
    /** The POSTs of `kind` it took (answered 2xx). */
    delivered: (kind: string) => got.filter((g) => g.status === 200 && g.headers['x-miyabi-event'] === kind),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const gated = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'DeployAgent', phase: 'CICD' as const, approval: true },
];
const signatureOf = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('notifications (real CLI, a local receiver)', () => {
  test('one signed POST per notified event; with the receiver down for a while they arrive later; the command hook gets each too', async ({ claude }) => {
    const hook = await receiver();
    try {
      // Down (503) for 2 s from the first request on.
      let downSince: number | undefined;
      hook.answer = () => (Date.now() - (downSince ??= Date.now()) < 2000 ? 503 : 200);
      const hookFile = join(claude.dir, 'hook.ndjson');
      const command = [process.execPath, '-e', `let s='';process.stdin.on('data',c=>s+=c).on('end',()=>require('fs').appendFileSync(${JSON.stringify(hookFile)}, JSON.stringify({kind: process.env.MIYABI_NOTIFICATION, body: JSON.parse(s)})+'\\n'))`];
      const manager = await claude.open({ manager: { notify: { secret: 'k3y-never-logged', backoffMs: 200, command } } });
      let root = '';
      const run = runPipeline(manager, { issueNumber: 26, worktreePath: claude.dir, steps: gated, webhooks: [hook.url], onRoot: (id) => (root = id) });
      const waiting = await pollFor(async () => hook.delivered('pipeline.waiting')[0], 60_000, 'the waiting notification');
      // Refused while the receiver was down, delivered once it was back: the pipeline did not wait for it.
      expect(hook.got.filter((g) => g.headers['x-miyabi-event'] === 'pipeline.waiting').length).toBeGreaterThan(1);
      const other = await SessionManager.open(claude.store);
      await approvePipeline(other, root, { by: 'erin' }).finally(() => other.close());
      expect((await run).status).toBe('Completed');
      const completed = hook.delivered('pipeline.completed');
      expect(completed).toHaveLength(1);
      for (const post of [waiting, completed[0]!]) {
        expect(post.headers['x-miyabi-signature']).toBe(signatureOf(post.body, 'k3y-never-logged'));
        expect(post.headers['content-type']).toBe('application/json');
      }
      const body = JSON.parse(waiting.body) as { id: string; kind: string; pipeline: { rootId: string; status: string }; waiting: { reason: string } };
      expect(body).toMatchObject({ kind: 'pipeline.waiting', pipeline: { rootId: root, status: 'Waiting' }, waiting: { reason: 'gate' } });
      expect(waiting.headers['x-miyabi-delivery']).toBe(body.id);
      expect(JSON.parse(completed[0]!.body)).toMatchObject({ kind: 'pipeline.completed', pipeline: { status: 'Completed', steps: [{ status: 'HandedOff' }, { status: 'Completed' }] } });
      // Every try of one notification carried the same id; one id per notified event.
      expect(new Set(hook.got.map((g) => g.headers['x-miyabi-delivery'])).size).toBe(2);
      // The command hook got both, with the same bodies.
      const hookLines = (await readFile(hookFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; body: { id: string } });
      expect(hookLines.map((l) => l.kind).sort()).toEqual(['pipeline.completed', 'pipeline.waiting']);
      // Deliveries recorded with their tries; the secret and the URL never reach the log.
      const notified = (await logEvents(claude.store)).filter((e) => e['type'] === 'PipelineNotified').map((e) => e['data'] as { kind: string; target: string; delivered: boolean; attempts: number });
      expect(notified).toHaveLength(4);
      expect(notified.every((n) => n.delivered)).toBe(true);
      expect(notified.find((n) => n.kind === 'pipeline.waiting' && n.target.startsWith('webhook:'))!.attempts).toBeGreaterThan(1);
      const bytes = await logBytes(claude.store);
      expect(bytes).not.toContain('k3y-never-logged');
      expect(bytes.match(new RegExp(hook.url.replaceAll('/', '\\/'), 'g'))).toHaveLength(1); // only in the pipeline's own spec
      expect((await auditLog(claude.store)).findings).toEqual([]);
    } finally {
      await hook.close();
    }
  }, 120_000);

  test('a manager killed between an event and its delivery delivers it after the resume, under the same id', async ({ claude }) => {
    const hook = await receiver();
    try {
      // The first delivery hangs: the manager is killed while it is on its way.
      hook.answer = (n) => (n === 0 ? 'hang' : 200);
      const host = (...args: string[]) => startChild('notify-host', [claude.store, claude.dir, claude.home(), claude.api.url, hook.url, ...args]);
      const first = host('run');
      await pollFor(async () => (hook.got.length > 0 ? true : undefined), 60_000, 'the first delivery');
      first.child.kill('SIGKILL');
      await first.exited;
      const root = first.lines.find((l) => l.startsWith('root '))!.slice(5);
      expect((await logEvents(claude.store)).filter((e) => e['type'] === 'PipelineNotified')).toHaveLength(0);
      const resumed = host('resume', root);
      const again = await pollFor(async () => hook.delivered('pipeline.waiting')[0], 60_000, 'the delivery after the resume');
      expect(again.headers['x-miyabi-delivery']).toBe(hook.got[0]!.headers['x-miyabi-delivery']);
      expect(again.body).toBe(hook.got[0]!.body);
      const manager = await SessionManager.open(claude.store);
      await approvePipeline(manager, root).finally(() => manager.close());
      const end = await resumed.exited;
      expect(end.code, end.stderr).toBe(0);
      expect(hook.delivered('pipeline.completed')).toHaveLength(1);
      const notified = (await logEvents(claude.store)).filter((e) => e['type'] === 'PipelineNotified');
      expect(notified.map((e) => (e['data'] as { kind: string }).kind).sort()).toEqual(['pipeline.completed', 'pipeline.waiting']);
    } finally {
      await hook.close();
    }
  }, 120_000);
});
