import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { pipelineStore } from '../cli/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { launchChromium } from '../helpers/chromium.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

describe('report', () => {
  it('is one self-contained HTML page whose lineage, timeline, machine and stats match the log in a real Chromium', async () => {
    const { dir, cleanup } = await tempDir();
    const browser = await launchChromium();
    try {
      const store = join(dir, 'store');
      await pipelineStore(store);
      const m = await SessionManager.open(store);
      const broken = await m.spawnAgentSession('LintAgent', 'lint', contextFor('Review', 8));
      await m.failSession(broken.id, 'eslint crashed');
      const sessions = await m.listSessions();
      await m.close();

      const file = join(dir, 'report.html');
      expect((await runCli(['report', '--out', file, '--dir', store])).code).toBe(0);
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);

      const nodes = await page.$$eval('#lineage g.node', (gs) => gs.map((g) => [g.getAttribute('data-session'), g.getAttribute('data-status')] as const));
      expect(new Map(nodes)).toEqual(new Map(sessions.map((s) => [s.id, s.status])));
      expect(await page.$$eval('#lineage path.edge', (es) => es.length)).toBe(sessions.filter((s) => s.parentSession !== null).length);
      const bars = await page.$$eval('#timeline g.bar', (gs) => gs.map((g) => g.getAttribute('data-status')));
      expect(bars).toEqual(sessions.map((s) => s.status));
      const states = await page.$$eval('svg.machine[data-machine="session"] g.state', (gs) => gs.map((g) => g.getAttribute('data-state')));
      expect(states).toEqual(['active', 'handedOff', 'completed', 'failed']);
      const totals = await page.$$eval('#stats tr:nth-child(2) td', (tds) => tds.map((td) => td.textContent));
      expect(totals).toEqual(['5', '1', '2', '1', '1']);
      expect(await page.textContent('#lineage')).toContain('LintAgent');
      expect(requests.every((url) => url.startsWith('file://'))).toBe(true);

      const rows = await page.$$eval('#sessions tr[data-session]', (trs) => trs.map((tr) => [tr.getAttribute('data-session'), tr.querySelector('td.error')?.textContent, tr.children[4]?.textContent]));
      expect(rows.map(([id]) => id)).toEqual(sessions.map((s) => s.id));
      expect(rows.find(([id]) => id === broken.id)?.slice(1)).toEqual(['eslint crashed', '#8']);
      expect(await page.$('#left-out')).toBeNull();

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

      // The newest pipeline only: the rest is said to be left out, and not drawn.
      expect((await runCli(['report', '--newest', '1', '--out', file, '--dir', store])).stdout).toMatch(/1 pipelines, 1 sessions; 4 of 5 left out/);
      await page.goto(pathToFileURL(file).href);
      expect(await page.$$eval('#lineage g.node', (gs) => gs.map((g) => g.getAttribute('data-session')))).toEqual([broken.id]);
      expect(await page.textContent('#left-out')).toContain('4 of the store\'s 5 sessions are left out');
      // One pipeline, whichever of its sessions is named.
      const chain = sessions.filter((s) => s.context.issueNumber === 42);
      expect((await runCli(['report', '--pipeline', chain[0]!.id, '--out', file, '--dir', store])).code).toBe(0);
      await page.goto(pathToFileURL(file).href);
      expect(await page.$$eval('#sessions tr[data-session]', (trs) => trs.map((tr) => tr.getAttribute('data-session')))).toEqual(chain.map((s) => s.id));
    } finally {
      await browser.close();
      await cleanup();
    }
  });
});
