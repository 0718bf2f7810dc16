import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { SessionManager, runPipeline } from '../../src/index.js';
import { steeringSection } from '../../src/server/steering.js';
import { launchChromium } from '../helpers/chromium.js';
import { pollFor } from '../helpers/children.js';
import { dashboardOn, HOSTILE } from '../helpers/dashboard.js';
import { fakeAgentRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const typesIn = (dir: string) => logEvents<{ type: string; by?: string }>(dir);

describe("the dashboard's Approve and Reject in a real Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser.close());

  it('a pipeline held at a gate shows what it waits for; Approve asks first, records who, and the pipeline goes on', async () => {
    const { dir, cleanup } = await tempDir();
    const manager = await SessionManager.open(dir, { runner: fakeAgentRunner('ok') });
    let root = '';
    const run = runPipeline(manager, { issueNumber: 26, worktreePath: dir, purpose: `deploy ${HOSTILE}`, steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'DeployAgent', phase: 'CICD', approval: true }], onRoot: (id) => (root = id) });
    await pollFor(async () => ((await manager.pipelineStream(root).catch(() => undefined))?.state === 'waiting' ? true : undefined), 20_000, 'the gate');
    const dashboard = await dashboardOn(dir, { actions: { manager: async () => manager, agents: false, localUser: 'local-tester' } });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const dialogs: string[] = [];
      let answer: 'accept' | 'dismiss' = 'dismiss';
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void (answer === 'accept' ? dialog.accept() : dialog.dismiss());
      });
      await page.goto(`${dashboard.url}pipeline/${root}`);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-waiting.png'), fullPage: true });
      expect(await page.textContent('li[data-waiting=gate]')).toMatch(/step 2 \(DeployAgent\) waited for gate since .*: step 2 \(DeployAgent\) requires approval: waiting for a person/);
      expect(await page.$$('button[data-action=reject]')).toHaveLength(1);
      // A gate needs no money: no amount to fill in.
      expect(await page.$$('input[name=add_budget]')).toHaveLength(0);
      await page.click('button[data-action=approve]');
      expect(dialogs).toEqual(['Let the pipeline go on?']);
      expect((await typesIn(dir)).some((e) => e.type === 'PipelineApproved')).toBe(false);
      answer = 'accept';
      await page.click('button[data-action=approve]');
      await page.waitForURL(/acted=approved/);
      expect(await page.textContent('#notice')).toContain('Approved');
      expect((await run).status).toBe('Completed');
      expect((await typesIn(dir)).find((e) => e.type === 'PipelineApproved')?.by).toBe('local-tester');
      await page.reload();
      expect(await page.textContent('ul.waits')).toMatch(/approved by local-tester at/);
      expect(await page.$$eval('main img, main script', (found) => found.length)).toBe(0);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-approve.png'), fullPage: true });
    } finally {
      await page.close();
      await dashboard.close();
      await manager.close();
      await cleanup();
    }
  }, 60_000);

  it("escapes a wait's detail (an agent's words) and offers an amount for a budget", async () => {
    const root = { id: '6f1c2f0e-3b7a-4d52-9a51-0f4d8c2e7b13', agentName: 'A', purpose: 'p', context: { issueNumber: 1, currentPhase: 'Review' as const, worktreePath: null, previousResults: [] }, createdAt: '2026-11-29T00:00:00.000Z', status: 'Failed' as const, parentSession: null, childSessions: [], revision: 2, pipeline: { steps: [{ agentName: 'A', phase: 'Review' as const }] } };
    const wait = { reason: 'budget' as const, step: 0, sessionId: root.id, detail: HOSTILE, since: '2026-11-29T00:00:01.000Z', eventId: root.id };
    const html = await steeringSection(new Map([[root.id, root]]), root, { stop: true, agents: false }, { waits: [wait], state: 'waiting' });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('name="add_budget"');
  });
});
