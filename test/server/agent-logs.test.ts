import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/index.js';
import type { Dashboard } from '../../src/server/dashboard.js';
import { pipelineMain } from '../../src/server/views.js';
import type { Session } from '../../src/domain/session.js';
import { pollFor, startChild, waitFor } from '../helpers/children.js';
import { dashboardOnPostgres, fetchFrom } from '../helpers/dashboard.js';
import { tempDir } from '../helpers/fixtures.js';
import { dropSchema, freshSchema, PG_URL } from '../helpers/stores.js';

describe('the log of an agent run by a manager on another host', () => {
  it('is shown where the store publishes it, and otherwise the page says where it is', () => {
    const agent = { process: { host: 'build-7', pid: 4242, startTime: '1' }, supervisor: { host: 'build-7', pid: 4241, startTime: '1' }, command: ['claude'], cwd: '/w', logFile: '/w/logs/a.log', resumedFrom: null, startedAt: '2026-11-29T10:00:00.000Z' };
    const session = { id: '3f1d8a52-0000-4000-8000-000000000001', agentName: 'CodeGenAgent', purpose: 'p', context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: null, previousResults: [] }, createdAt: '2026-11-29T10:00:00.000Z', status: 'Active', parentSession: null, childSessions: [], revision: 2, agent } as Session;
    const page = (published: boolean) => pipelineMain(new Map([[session.id, session]]), new Map(), Date.parse('2026-11-29T10:01:00.000Z'), session, { sessions: [session], host: 'here', published });
    expect(page(true)).toContain(`data-log="/log/${session.id}"`);
    expect(page(true)).toContain('its manager publishes the log');
    expect(page(false)).not.toContain('data-log=');
    expect(page(false)).toContain('its log is there, in <code>/w/logs/a.log</code>');
  });

  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('is published to the PostgreSQL store by that manager, and shown by a dashboard that has no file of it', async () => {
    const schema = freshSchema();
    // "Host A" runs the agent, writing its log in its own folder; the dashboard reads another.
    const host = startChild('run-agent', [join(dir, 'host-a'), dir, PG_URL, schema]);
    const store = new PostgresEventStore({ connectionString: PG_URL, schema });
    let dashboard: Dashboard | null = null;
    try {
      await waitFor(() => host.lines.some((l) => l.startsWith('started ')), 20_000, 'host A to start its agent');
      const id = host.lines.find((l) => l.startsWith('started '))!.split(' ')[1]!;
      dashboard = await dashboardOnPostgres(store, { logs: join(dir, 'host-b', 'logs') });
      // The fake agent writes its init line, then names the grandchild it started.
      const log = await pollFor(async () => {
        const body = (await fetchFrom(dashboard!.url, `/log/${id}`)).body;
        return body.includes('grandchild') ? body : undefined;
      }, 20_000, 'the published log to reach the dashboard');
      expect(log).toContain('"subtype":"init"');
      expect((await fetchFrom(dashboard.url, `/pipeline/${id}`)).body).toContain(`data-log="/log/${id}"`);
    } finally {
      // SIGTERM: host A stops its agent as it exits (SIGKILL left the agent running after the test).
      host.child.kill('SIGTERM');
      await host.exited;
      await dashboard?.close();
      await store.close();
      await dropSchema(schema);
    }
  }, 60_000);
});
