import { hostname } from 'node:os';
import { appendFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager, isSessionError } from '../../src/index.js';
import { readFileSessions } from '../../src/query/session-reads.js';
import { parseTokens } from '../../src/server/access.js';
import { pipelineRows } from '../../src/server/pipeline-rows.js';
import type { Dashboard } from '../../src/server/dashboard.js';
import { runCli } from '../helpers/cli.js';
import { dashboardOn, fetchFrom, HOSTILE, storeWithRunningAgent } from '../helpers/dashboard.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { v4 as uuidv4 } from 'uuid';
import { SlotTable } from '../../src/store/slot-store.js';
import { FileSlotTable } from '../../src/store/file/file-slots.js';

describe('the dashboard (serve)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let failed: string;
  let root: string;
  let dashboard: Dashboard;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const m = await SessionManager.open(dir);
    for (let issue = 1; issue <= 3; issue += 1) await m.spawnAgentSession('CodeGenAgent', `routine work #${issue}`, contextFor('CodeGeneration', issue));
    const a = await m.spawnAgentSession('CodeGenAgent', `purpose ${HOSTILE}`, contextFor('CodeGeneration', 77));
    root = a.id;
    const b = await m.handoff(a.id, 'TestAgent', contextFor('Test', 77), { result: { success: true, output: `result ${HOSTILE}` } });
    await m.failSession(b.id, `error ${HOSTILE}`);
    failed = b.id;
    await m.close();
    dashboard = await dashboardOn(dir);
  });
  afterAll(async () => {
    await dashboard.close();
    await cleanup();
  });

  it('charts the sessions and their cost over time, counted in the background', async () => {
    let body = '';
    for (let tries = 0; tries < 100 && !body.includes('id="sessions-over-time"'); tries += 1) {
      body = (await fetchFrom(dashboard.url, '/')).body;
      if (!body.includes('id="sessions-over-time"')) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(body).toContain('id="cost-over-time"');
    // Today's bar: the five sessions spawned, one of them failed.
    const today = new Date().toISOString().slice(0, 10);
    expect(body).toMatch(new RegExp(`data-start="${today}T00:00:00.000Z" data-spawned="5" data-failed="1"`));
    const hourly = (await fetchFrom(dashboard.url, '/?bucket=hour')).body;
    expect(hourly).toContain('By hour, the last 48 hours');
    expect(hourly).toMatch(/data-spawned="5" data-failed="1"/);
  });

  it('answers each view, under a policy that forbids inline script and framing', async () => {
    for (const path of ['/', '/pipelines', '/sessions', `/pipeline/${failed}`, '/assets/dashboard.js', '/assets/dashboard.css']) {
      const { status, headers } = await fetchFrom(dashboard.url, path);
      expect(status, path).toBe(200);
      expect(headers['content-security-policy']).toMatch(/script-src 'self';/);
      expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('shows what agents wrote as text, never as markup', async () => {
    for (const path of ['/', '/pipelines', '/sessions?text=purpose', `/pipeline/${failed}`]) {
      const { body } = await fetchFrom(dashboard.url, path);
      expect(body).not.toContain('<script>alert');
      expect(body).not.toContain('<img src=x');
      expect(body).not.toContain('href="javascript:');
      expect(body).not.toContain('\u202e');
      expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('finds a pipeline by its issue, and its page shows the failed step and its error text', async () => {
    const list = await fetchFrom(dashboard.url, '/sessions?issue=77');
    expect(list.body).toContain(`/pipeline/${failed}`);
    expect(list.body).not.toContain('routine work');
    const page = await fetchFrom(dashboard.url, `/pipeline/${failed}`);
    expect(page.body).toContain(`Pipeline ${root.slice(0, 8)}`);
    expect(page.body).toContain('error &lt;script&gt;');
    expect(page.body).toMatch(new RegExp(`data-session="${failed}" data-status="Failed"`));
  });

  it('lists pipelines with their steps, each once, newest first, page after page', async () => {
    const page = await fetchFrom(dashboard.url, '/pipelines?issue=77');
    expect(page.body).toContain(`data-pipeline="${root}"`);
    expect(page.body).toMatch(/class="step Failed"[^>]*>TestAgent</);
    expect(page.body).not.toContain('routine work');
    // One pipeline a page: the one of two sessions shows once; then the three routine ones.
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const { rows, next } = await readFileSessions(dir, (reads) => pipelineRows(reads, {}, after, 1));
      seen.push(...rows.map((r) => r.root.purpose));
      if (next === null) break;
      after = next;
    }
    expect(seen).toEqual([`purpose ${HOSTILE}`, 'routine work #3', 'routine work #2', 'routine work #1']);
    // A filter on a step that is not the newest of its pipeline still finds the pipeline, once.
    const { rows } = await readFileSessions(dir, (reads) => pipelineRows(reads, { agent: 'CodeGenAgent' }, undefined, 10));
    expect(rows.map((r) => r.steps.length)).toEqual([2, 1, 1, 1]);
  });

  it('sorts pipelines oldest first, newest first or failures first, each once a page after page', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      const m = await SessionManager.open(other);
      // P1 fails in its second step; P2 is one Active step; P3 completes in its second.
      const p1 = await m.spawnAgentSession('CodeGenAgent', 'P1', contextFor('CodeGeneration', 1));
      const p1b = await m.handoff(p1.id, 'ReviewAgent', contextFor('Review', 1), { result: { success: true, output: 'ok' } });
      await m.spawnAgentSession('CodeGenAgent', 'P2', contextFor('CodeGeneration', 2));
      const p3 = await m.spawnAgentSession('CodeGenAgent', 'P3', contextFor('CodeGeneration', 3));
      const p3b = await m.handoff(p3.id, 'TestAgent', contextFor('Test', 3), { result: { success: true, output: 'ok' } });
      await m.failSession(p1b.id, 'review found a bug');
      await m.completeSession(p3b.id, { success: true, output: 'green' });
      // P4 failed at its root, then was retried: failures first, it comes first, at its failure.
      const p4 = await m.spawnAgentSession('CodeGenAgent', 'P4', contextFor('CodeGeneration', 4));
      await m.failSession(p4.id, 'killed', undefined, { interrupted: true });
      await m.retrySession(p4.id);
      await m.close();
      const pageByPage = async (order: 'spawn' | 'newest' | 'failures-first', filters = {}) => {
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 10; pages += 1) {
          const { rows, next } = await readFileSessions(other, (reads) => pipelineRows(reads, filters, after, 1, order));
          seen.push(...rows.map((r) => r.root.purpose));
          if (next === null) break;
          after = next;
        }
        return seen;
      };
      expect(await pageByPage('spawn')).toEqual(['P1', 'P2', 'P3', 'P4']);
      expect(await pageByPage('newest')).toEqual(['P4', 'P3', 'P2', 'P1']);
      expect(await pageByPage('failures-first')).toEqual(['P4', 'P1', 'P3', 'P2']);
      // By a step that is not its pipeline's first: P3 oldest first still comes after P1 and P2.
      expect(await pageByPage('spawn', { agent: 'CodeGenAgent' })).toEqual(['P1', 'P2', 'P3', 'P4']);
      expect(await pageByPage('failures-first', { agent: 'CodeGenAgent' })).toEqual(['P4', 'P3', 'P2', 'P1']);
      const served = await dashboardOn(other);
      try {
        const { body } = await fetchFrom(served.url, '/pipelines?order=spawn');
        expect(body).toContain('<option selected>spawn</option>');
        expect(body).toContain('4 pipelines, oldest first.');
        expect(body.indexOf('>P1<')).toBeLessThan(body.indexOf('>P3<'));
        expect((await fetchFrom(served.url, '/pipelines?order=sideways')).status).toBe(400);
      } finally {
        await served.close();
      }
    } finally {
      await done();
    }
  });

  it('shows the store concurrency limit, who holds a slot and who waits; a pipeline page its queued step', async () => {
    const slots = new SlotTable(new FileSlotTable(dir));
    const [holder, waiter] = [uuidv4(), uuidv4()];
    await slots.setLimit({ limit: 1, perAgent: { DeployAgent: 1 } });
    try {
      expect(await slots.enter({ holder, agent: 'CodeGenAgent', pipeline: null, keeper: 'vm/1/-', leaseMs: 60_000 })).toMatchObject({ granted: true });
      expect(await slots.enter({ holder: waiter, agent: 'ReviewAgent', pipeline: root, keeper: 'vm/1/-', leaseMs: 60_000 })).toMatchObject({ granted: false, position: 1 });
      const overview = (await fetchFrom(dashboard.url, '/')).body;
      expect(overview).toContain('<h2 id="concurrency">Concurrency</h2>');
      expect(overview).toContain('Limit: <strong>1 agent at once, 1 DeployAgent at once</strong> · 1 running · 1 waiting for a slot');
      expect(overview).toContain(`<code>${holder}</code>`);
      expect(overview).toContain(`<a href="/pipeline/${root}">${root.slice(0, 8)}</a>`);
      const page = (await fetchFrom(dashboard.url, `/pipeline/${root}`)).body;
      expect(page).toContain(`ReviewAgent waits for a concurrency slot: place 1 of 1`);
      expect(page).toContain(`as session <code>${waiter}</code>`);
    } finally {
      await slots.setLimit(null);
      await slots.release(waiter, 'waiting');
      await slots.release(holder, 'waiting');
    }
    expect((await fetchFrom(dashboard.url, '/')).body).not.toContain('id="concurrency"');
  });

  it("shows the picked session's state in the session machine", async () => {
    const { body } = await fetchFrom(dashboard.url, `/pipeline/${failed}`);
    expect(body).toMatch(/<g class="state current" data-state="failed">/);
    expect(body).toContain('href="https://stately.ai/editor"');
    expect((await fetchFrom(dashboard.url, `/pipeline/${root}`)).body).toMatch(/<g class="state current" data-state="handedOff">/);
  });

  it('pages by cursor, keeping the filters in the address', async () => {
    const first = await fetchFrom(dashboard.url, '/sessions?agent=CodeGenAgent&order=spawn');
    expect(first.body).toContain('routine work #1');
    // Five CodeGen sessions fit one page: no next link; the filter form shows the filter.
    expect(first.body).not.toContain('id="next"');
    expect(first.body).toContain('name="agent" value="CodeGenAgent"');
  });

  it('refuses a bad filter with 400, naming it; an unknown session with 404; a write with 405', async () => {
    const bad = await fetchFrom(dashboard.url, '/sessions?issue=seven');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('query.issue');
    expect((await fetchFrom(dashboard.url, '/pipeline/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await fetchFrom(dashboard.url, '/', { method: 'POST' })).status).toBe(405);
  });

  it('answers only the names of this machine (a page elsewhere cannot rebind one to it)', async () => {
    const port = new URL(dashboard.url).port;
    expect((await fetchFrom(dashboard.url, '/', { headers: { host: `evil.example:${port}` } })).status).toBe(421);
    expect((await fetchFrom(dashboard.url, '/', { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it('follows the store: /live tells the seq, then each append by another process', async () => {
    const url = new URL('/live', dashboard.url);
    const seen: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request(url, (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          for (const m of chunk.matchAll(/event: append\ndata: (\d+)/g)) seen.push(Number(m[1]));
          if (seen.length === 1) void runCli(['spawn', 'ReviewAgent', '--purpose', 'appended elsewhere', '--issue', '9', '--phase', 'Review', '--dir', dir]);
          if (seen.length === 2) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (error) => (seen.length >= 2 ? resolve() : reject(error)));
      req.end();
    });
    await done;
    expect(seen[1]).toBe(seen[0]! + 1);
    expect((await fetchFrom(dashboard.url, '/sessions?issue=9')).body).toContain('appended elsewhere');
  });
});

describe('the dashboard with tokens', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const m = await SessionManager.open(dir);
    await m.spawnAgentSession('CodeGenAgent', 'p', contextFor('CodeGeneration', 1));
    await m.close();
  });
  afterAll(() => cleanup());

  it('refuses to listen beyond this machine without a token', async () => {
    const refused = await dashboardOn(dir, { host: '0.0.0.0' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isSessionError(refused, 'INVALID_INPUT')).toBe(true);
    const cli = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--dir', dir]);
    // Refused (exit 4), as any input the library refuses.
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain('without --token');
  });

  it('with a token, answers no request without it: 401; with it as a bearer, or once in the address (then a cookie)', async () => {
    const dashboard = await dashboardOn(dir, { host: '0.0.0.0', tokens: ['ana=correct-horse-battery-staple'] });
    try {
      const url = dashboard.url.replace('0.0.0.0', '127.0.0.1');
      expect((await fetchFrom(url, '/')).status).toBe(401);
      expect((await fetchFrom(url, '/live')).status).toBe(401);
      expect((await fetchFrom(url, '/', { headers: { authorization: 'Bearer wrong-horse-battery-staple' } })).status).toBe(401);
      expect((await fetchFrom(url, '/', { headers: { authorization: 'Bearer correct-horse-battery-staple' } })).status).toBe(200);
      const visit = await fetchFrom(url, '/sessions?token=correct-horse-battery-staple&status=Active');
      expect(visit.status).toBe(303);
      expect(visit.headers.location).toBe('/sessions?status=Active');
      const cookie = String(visit.headers['set-cookie']).split(';')[0]!;
      expect(String(visit.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await fetchFrom(url, '/sessions?status=Active', { headers: { cookie } })).status).toBe(200);
      // A cookie that is not even URL-encoded text is no token, and no crash.
      expect((await fetchFrom(url, '/', { headers: { cookie: 'miyabi_dashboard=%E0%A4%A' } })).status).toBe(401);
    } finally {
      await dashboard.close();
    }
  });

  it('takes no token too short to be a secret, or without a name', () => {
    expect(() => parseTokens(['ana=short'])).toThrow(/at least 16/);
    expect(() => parseTokens(['=correct-horse-battery-staple'])).toThrow(/NAME=SECRET/);
  });
});

describe("a running agent's log", () => {
  it('is shown on its pipeline page from <dir>/logs/<id>.log, its end, escaped; nothing else can be read that way', async () => {
    const { dir, cleanup } = await tempDir();
    const id = await storeWithRunningAgent(dir, `{"type":"system"}\nworking on it \u001b]0;pwned\u0007 ${HOSTILE}\n`);
    const dashboard = await dashboardOn(dir);
    try {
      const page = (await fetchFrom(dashboard.url, `/pipeline/${id}`)).body;
      expect(page).toContain(`data-log="/log/${id}"`);
      expect(page).toContain(`agent pid 4242 on ${hostname()}`);
      const log = await fetchFrom(dashboard.url, `/log/${id}`);
      expect(log.headers['content-type']).toMatch(/^text\/plain/);
      expect(log.body).toContain('working on it \\u001b]0;pwned\\u0007');
      expect(log.body).not.toContain('\u001b');
      await appendFile(join(dir, 'logs', `${id}.log`), 'a line more\n');
      expect((await fetchFrom(dashboard.url, `/log/${id}`)).body).toContain('a line more');
      // Only a session id names a log: no path reaches anything else.
      expect((await fetchFrom(dashboard.url, '/log/..%2F..%2Fevents.ndjson')).status).toBe(404);
      expect((await fetchFrom(dashboard.url, '/log/00000000-0000-4000-8000-000000000000')).body).toBe('');
    } finally {
      await dashboard.close();
      await cleanup();
    }
  });

  it('of an agent on another host is not read here: the page says where it is', async () => {
    const { dir, cleanup } = await tempDir();
    const id = await storeWithRunningAgent(dir, 'a log of this host by that name\n', 'build-7');
    const dashboard = await dashboardOn(dir);
    try {
      const page = (await fetchFrom(dashboard.url, `/pipeline/${id}`)).body;
      expect(page).toContain('Its agent runs on host <code>build-7</code> (pid 4242): its log is there');
      expect(page).not.toContain('data-log=');
    } finally {
      await dashboard.close();
      await cleanup();
    }
  });
});
