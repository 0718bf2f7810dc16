import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { SessionManager, runPipeline } from '../../src/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { pollFor } from '../helpers/children.js';
import { dashboardOn, HOSTILE } from '../helpers/dashboard.js';
import { fakeAgentRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** The retry spawns in the store's log. */
async function retriesIn(dir: string): Promise<unknown[]> {
  const events = await logEvents<{ type: string; data: { retryOf?: string } }>(dir);
  return events.filter((e) => e.type === 'SessionSpawned' && e.data.retryOf !== undefined);
}

describe("the dashboard's buttons in a real Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser.close());

  it('Retry asks first (nothing happens when declined); a double click then retries exactly once, and the page follows the pipeline to its end', async () => {
    const { dir, cleanup } = await tempDir();
    const failing = await SessionManager.open(dir, { runner: fakeAgentRunner('ok', { FAKE_AGENT_FAIL: 'ReviewAgent' }) });
    const run = await runPipeline(failing, { issueNumber: 41, worktreePath: dir, purpose: `fix ${HOSTILE}`, steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'ReviewAgent', phase: 'Review' }, { agentName: 'TestAgent', phase: 'Test' }] });
    await failing.close();
    const [root, review] = run.sessions;
    const manager = await SessionManager.open(dir, { runner: fakeAgentRunner('ok') });
    const dashboard = await dashboardOn(dir, { actions: { manager: async () => manager, agents: true, localUser: 'local-tester' } });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const posts: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST') posts.push(request.url());
      });
      const dialogs: string[] = [];
      let answer: 'accept' | 'dismiss' = 'dismiss';
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void (answer === 'accept' ? dialog.accept() : dialog.dismiss());
      });
      await page.goto(`${dashboard.url}pipeline/${root!.id}`);
      await page.click('button[data-action=retry]');
      expect(dialogs).toEqual([`Run ReviewAgent (${review!.id.slice(0, 8)}) again as a new session, and the pipeline on after it?`]);
      expect(posts).toEqual([]);
      expect(await retriesIn(dir)).toHaveLength(0);

      answer = 'accept';
      await page.dblclick('button[data-action=retry]');
      await page.waitForURL(/acted=retried/);
      expect(await page.textContent('#notice')).toContain('Retried');
      // One question, one request: the second click of the double click found the form sent.
      expect(dialogs).toHaveLength(2);
      expect(posts).toHaveLength(1);
      // The page follows the store as the retried step and the next one run, without a reload.
      await pollFor(async () => ((await page.textContent('main')) ?? '').includes('started by local-tester') || undefined, 20_000, 'the page to show the retry');
      await pollFor(async () => (await page.$$eval('#main td', (cells) => cells.some((c) => c.textContent === 'Completed'))) || undefined, 20_000, 'the page to show the pipeline completed');
      expect(await retriesIn(dir)).toHaveLength(1);
      expect(await page.$$eval('main img, main script', (found) => found.length)).toBe(0);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-steer.png'), fullPage: true });
    } finally {
      await page.close();
      await dashboard.close();
      await manager.close();
      await cleanup();
    }
  }, 60_000);
});
