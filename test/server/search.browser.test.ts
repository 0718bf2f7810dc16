import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { PostgresEventStore, SessionManager } from '../../src/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { dropSchema, freshSchema, PG_URL } from '../helpers/stores.js';
import { dashboardOn, dashboardOnPostgres, fetchFrom, HOSTILE } from '../helpers/dashboard.js';
import { transcriptOf } from '../helpers/transcripts.js';
import { FileTranscripts } from '../../src/store/file/file-transcripts.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

describe("the dashboard's search box", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser.close());

  it('finds what an agent said from the header of any page, shows it escaped and links to its conversation', async () => {
    const { dir, cleanup } = await tempDir();
    const m = await SessionManager.open(dir);
    const a = await m.spawnAgentSession('CodeGenAgent', 'Implement the migration', contextFor('CodeGeneration', 5));
    const b = await m.handoff(a.id, 'ReviewAgent', contextFor('Review', 5));
    await m.close();
    await new FileTranscripts(dir).save(a.id, transcriptOf(['user', 'Implement the migration'], ['assistant', `The rollback step is written. ${HOSTILE}`]));
    await new FileTranscripts(dir).save(b.id, transcriptOf(['user', 'Review it'], ['assistant', 'Approved: the Rollback Step works.']));
    const dashboard = await dashboardOn(dir);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    try {
      await page.goto(`${dashboard.url}sessions`);
      await page.fill('header input[name="q"]', 'rollback step');
      await page.press('header input[name="q"]', 'Enter');
      await page.waitForSelector('li.hit');
      expect(new URL(page.url()).pathname).toBe('/search');
      expect(await page.$$eval('li.hit mark', (marks) => marks.map((mark) => mark.textContent))).toEqual(['Rollback Step', 'rollback step']);
      const first = await page.textContent('li.hit:nth-child(2) blockquote');
      expect(first).toContain(`The rollback step is written. ${HOSTILE.replace('\u202e', '\\u202e')}`.slice(0, 60));
      expect(await page.$$eval('main img, main script, main a[href^="javascript:"]', (found) => found.length)).toBe(0);
      expect(await page.textContent('main')).toContain('Searched the 2 stored conversations of 2 sessions');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-search.png'), fullPage: true });
      await page.click('li.hit:nth-child(2) a');
      // (Its conversation shows there when the log records it stored, as an agent run records it.)
      await page.waitForSelector(`#session-${a.id}`, { state: "attached" });
      expect(new URL(page.url()).pathname).toBe(`/pipeline/${a.id}`);
      await page.goto(`${dashboard.url}search?q=${encodeURIComponent('nobody said this')}`);
      expect(await page.textContent('main')).toContain('No message holds these words');
      expect((await fetchFrom(dashboard.url, '/search?q=*')).status).toBe(400);
      expect(dialogs).toEqual([]);
    } finally {
      await page.close();
      await dashboard.close();
      await cleanup();
    }
  });

  it('searches a PostgreSQL store the same way', async () => {
    const schema = freshSchema();
    const { dir, cleanup } = await tempDir();
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    const m = await SessionManager.open(dir, { store: new PostgresEventStore({ connectionString: PG_URL, schema }) });
    const a = await m.spawnAgentSession('CodeGenAgent', 'Implement', contextFor('CodeGeneration', 9));
    await m.close();
    await store.transcripts.save(a.id, transcriptOf(['assistant', 'The rollback step is written.']));
    const dashboard = await dashboardOnPostgres(store);
    try {
      const { status, body } = await fetchFrom(dashboard.url, `/search?q=${encodeURIComponent('ROLLBACK step')}&issue=9`);
      expect(status).toBe(200);
      expect(body).toContain(`<mark>rollback step</mark>`);
      expect(body).toContain(`/pipeline/${a.id}#conversation-${a.id}`);
      expect((await fetchFrom(dashboard.url, `/search?q=rollback&issue=8`)).body).toContain('No message holds these words');
    } finally {
      await dashboard.close();
      await store.close();
      await dropSchema(schema);
      await cleanup();
    }
  });
});
