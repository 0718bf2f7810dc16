import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { PostgresEventStore, SessionManager } from '../../src/index.js';
import type { Dashboard } from '../../src/server/dashboard.js';
import { launchChromium } from '../helpers/chromium.js';
import { runCli } from '../helpers/cli.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { dropSchema, freshSchema, PG_URL } from '../helpers/stores.js';
import { dashboardOn, dashboardOnPostgres, HOSTILE, storeWithRunningAgent } from '../helpers/dashboard.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** Every dialog a page opens (alert, confirm: what an injected script would do), dismissed and kept. */
function dialogsOf(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return dialogs;
}

describe('the dashboard in a real Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser.close());

  it('runs nothing an agent wrote and shows it as written; an append by another process appears without a reload', async () => {
    const { dir, cleanup } = await tempDir();
    const m = await SessionManager.open(dir);
    const a = await m.spawnAgentSession('CodeGenAgent', `purpose ${HOSTILE}`, contextFor('CodeGeneration', 5));
    const b = await m.handoff(a.id, 'TestAgent', contextFor('Test', 5), { result: { success: true, output: `result ${HOSTILE}` } });
    await m.failSession(b.id, `error ${HOSTILE}`);
    await m.close();
    const dashboard = await dashboardOn(dir);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const dialogs = dialogsOf(page);
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(dashboard.url)) outside.push(request.url());
      });
      await page.goto(`${dashboard.url}pipeline/${b.id}#session-${b.id}`);
      expect(await page.textContent(`#session-${b.id} td.error`)).toBe(`error ${HOSTILE.replace('\u202e', '\\u202e')}`);
      expect(await page.$$eval('main img, main script, main a[href^="javascript:"]', (found) => found.length)).toBe(0);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-pipeline.png'), fullPage: true });

      await page.goto(`${dashboard.url}sessions?order=newest`);
      await page.waitForSelector('#live[data-following="true"]', { state: 'attached' });
      let loads = 0;
      page.on('load', () => (loads += 1));
      const started = Date.now();
      expect((await runCli(['spawn', 'ReviewAgent', '--purpose', 'appended by another process', '--issue', '6', '--phase', 'Review', '--dir', dir])).code).toBe(0);
      await page.waitForSelector('text=appended by another process', { timeout: 15_000 });
      expect(loads).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sessions.png') });
      await page.goto(dashboard.url);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
      expect(dialogs).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await page.close();
      await dashboard.close();
      await cleanup();
    }
  });

  it("shows a running agent's log as it grows, as text", async () => {
    const { dir, cleanup } = await tempDir();
    const id = await storeWithRunningAgent(dir, `started ${HOSTILE}\n`);
    const dashboard = await dashboardOn(dir);
    const page = await browser.newPage();
    try {
      const dialogs = dialogsOf(page);
      await page.goto(`${dashboard.url}pipeline/${id}`);
      // Polled from here: the page's policy refuses evaluated strings, as it should.
      await expect.poll(() => page.textContent('pre.live-log'), { timeout: 10_000 }).toContain('started <script>alert(1)</script>');
      await appendFile(join(dir, 'logs', `${id}.log`), 'the agent wrote more\n');
      await expect.poll(() => page.textContent('pre.live-log'), { timeout: 10_000 }).toContain('the agent wrote more');
      expect(await page.$$eval('main img, main script', (found) => found.length)).toBe(0);
      expect(dialogs).toEqual([]);
    } finally {
      await page.close();
      await dashboard.close();
      await cleanup();
    }
  });

  it('follows a PostgreSQL store too (LISTEN/NOTIFY): an append by another process appears on the open page', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = freshSchema();
    const spec = `${PG_URL}#${schema}`;
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    let dashboard: Dashboard | null = null;
    const page = await browser.newPage();
    try {
      expect((await runCli(['spawn', 'CodeGenAgent', '--purpose', 'first on postgres', '--issue', '1', '--phase', 'CodeGeneration', '--store', spec, '--dir', dir])).code).toBe(0);
      dashboard = await dashboardOnPostgres(store);
      await page.goto(`${dashboard.url}sessions`);
      expect(await page.textContent('main')).toContain('first on postgres');
      await page.waitForSelector('#live[data-following="true"]', { state: 'attached' });
      expect((await runCli(['spawn', 'ReviewAgent', '--purpose', 'second on postgres', '--issue', '2', '--phase', 'Review', '--store', spec, '--dir', dir])).code).toBe(0);
      await page.waitForSelector('text=second on postgres', { timeout: 15_000 });
    } finally {
      await page.close();
      await dashboard?.close();
      await store.close();
      await dropSchema(schema);
      await cleanup();
    }
  });
});
