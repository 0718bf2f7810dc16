import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostName } from '../process/process-identity.js';
import { join } from 'node:path';
import { safeText } from '../domain/visible-text.js';
import type { AddressInfo } from 'node:net';
import { isSessionError, SessionError } from '../errors.js';
import type { SessionQuery } from '../projections/session-query.js';
import { agentRunning } from '../projections/sessions-projection.js';
import type { SessionStats } from '../projections/stats.js';
import type { SessionReads } from '../query/session-reads.js';
import { storedConversations } from '../report/transcript-text.js';
import type { EventStore } from '../store/event-store.js';
import type { TranscriptStore } from '../store/transcript-store.js';
import { logFileTail, type AgentLogStore } from '../store/agent-log-store.js';
import { checkAccess, isLoopback, type AccessRules, type Tokens } from './access.js';
import { DASHBOARD_CSS, DASHBOARD_JS } from './assets.js';
import { layout, problemPage } from './layout.js';
import { ChartsCounter } from './charts.js';
import { LiveFeed } from './live.js';
import { PIPELINES_PAGE, pipelineRows } from './pipeline-rows.js';
import { filterForm, overviewMain, pipelineMain, pipelinesMain, sessionsMain } from './views.js';
import { formOf, sameOrigin, Steering, type DashboardActions } from './actions.js';
import { ACTION_NOTICES, ACTION_PATH, steeringSection, type ActionKind } from './steering.js';
import { esc } from '../report/html.js';
import { pipelineIdOf } from '../domain/pipeline-id.js';
import { canWait } from '../domain/pipeline-steps.js';
import { isPipelineEvent, type PipelineEvent } from '../events/session-event.js';
import { foldPipelineStream } from '../projections/pipeline-stream.js';
import type { SlotTable, SlotView } from '../store/slot-store.js';
import { concurrencySection, queuedStepsSection } from './concurrency-section.js';
import { searchForm, searchMain, searchOf } from './search-view.js';
import { searchConversations } from '../query/conversation-search.js';
import { prometheusText } from '../report/prometheus.js';
import type { AppendMetricsSnapshot } from '../manager/append-metrics.js';
import type { SessionPage } from '../projections/session-query.js';

/** What the dashboard serves, and where. */
export interface DashboardOptions {
  /** Runs `read` on the store's sessions as they stand now, for each request (`fileSessionReader` keeps a file store's view between them). */
  read: <T>(read: (reads: SessionReads) => Promise<T>) => Promise<T>;
  /** The store, followed for live updates. */
  store: EventStore;
  /** Where the agents' conversations are kept. */
  transcripts: TranscriptStore;
  /** The store as people name it (shown in the header). */
  location: string;
  /** Default 127.0.0.1; any other address needs tokens. */
  host?: string;
  /** Default 4319; 0 picks a free port. */
  port?: number;
  /** Tokens by secret (see access.ts); with none, only a loopback address is allowed. */
  tokens?: Tokens;
  /** Where agents run on this host write their output (`<dir>/logs`): a running agent's log is shown live from there. */
  logs?: string;
  /** What its buttons may do (stop agents; with agents, retry and resume); left out, it only reads and shows none. */
  actions?: DashboardActions;
  /** The store's concurrency slots: the overview shows the limit, who runs and who waits; a pipeline, its queued steps. */
  slots?: SlotTable;
  /** This process's appends, once it made any (its manager's), for `/metrics`. */
  appendMetrics?: () => AppendMetricsSnapshot | null;
}

/** A running dashboard. */
export interface Dashboard {
  /** Its address, e.g. `http://127.0.0.1:4319/`. */
  url: string;
  /** Stops following the store, ends the open pages' streams and stops listening. */
  close(): Promise<void>;
}

/** Sessions a page of the sessions view shows. */
const PAGE = 50;

/*
 * Every answer: no inline script or style, nothing from another origin, never framed, never
 * cached (it is live), never sniffed, no address sent to another site. The referrer policy is
 * `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends a form's POST with
 * `Origin: null`, and the same-origin check of the actions could not tell the page's own forms.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/**
 * Starts `miyabi-sessions serve`: the dashboard over the library's read path, on either store.
 * Throws `INVALID_INPUT` for an address other than loopback without tokens.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const tokens = options.tokens ?? new Map<string, string>();
  if (!isLoopback(host) && tokens.size === 0) {
    throw new SessionError('INVALID_INPUT', `refusing to listen on ${host} without --token: anyone who reaches it would read every session`);
  }
  const feed = new LiveFeed(options.store, await options.read(async (reads) => reads.cursor));
  // Pages being answered (the live feed's long responses aside): the charts' count gives way to them.
  let answering = 0;
  const charts = new ChartsCounter(options.read, () => feed.refresh(), undefined, () => answering > 0);
  const steering = options.actions === undefined
    ? null
    : new Steering(options.actions, (root) => options.read((reads) => reads.pipeline(root)), (text) => process.stderr.write(`dashboard: ${text}\n`));
  const powers = steering?.powers ?? { stop: false, agents: false };
  const server = createServer((request, response) => {
    if (!(request.url ?? '').startsWith('/live')) {
      answering += 1;
      response.once('close', () => (answering -= 1));
    }
    void answer(request, response).catch((error: unknown) => {
      process.stderr.write(`dashboard: ${(error as Error).stack ?? String(error)}\n`);
      if (!response.headersSent) send(response, 500, 'text/html', problemPage('Something went wrong', 'The server could not answer; its log says why.', options.location));
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4319, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const rules: AccessRules = {
    tokens,
    loopback: isLoopback(host),
    hosts: new Set([`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`].map((h) => h.toLowerCase())),
  };
  feed.start();

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const access = checkAccess(request, url, rules);
    if (!access.ok) return send(response, access.status, 'text/plain', `${access.why}\n`);
    if (access.redirect !== undefined) {
      response.writeHead(303, { ...SECURITY_HEADERS, location: access.redirect, 'set-cookie': access.setCookie ?? '' });
      return void response.end();
    }
    const path = url.pathname;
    const action = ACTION_PATH.exec(path);
    if (action !== null && request.method === 'POST' && steering !== null) return act(request, response, action[1] as ActionKind, action[2]!, access.who);
    if (action !== null || (request.method !== 'GET' && request.method !== 'HEAD')) {
      // An action's address acts only on a form's POST; a link to it (GET) does nothing.
      response.setHeader('allow', steering === null ? 'GET, HEAD' : action === null ? 'GET, HEAD' : 'POST');
      return send(response, 405, 'text/plain', steering === null ? 'this dashboard only reads\n' : 'an action is a form of this dashboard, sent by POST\n');
    }
    if (path === '/assets/dashboard.css') return send(response, 200, 'text/css', DASHBOARD_CSS);
    if (path === '/assets/dashboard.js') return send(response, 200, 'text/javascript', DASHBOARD_JS);
    if (path === '/live') return request.method === 'HEAD' ? send(response, 200, 'text/event-stream', '') : void feed.add(response);
    const log = /^\/log\/([0-9a-f-]{36})$/.exec(path);
    if (log !== null) return send(response, 200, 'text/plain', await logTail(options.logs, options.store.agentLogs, log[1]!));
    // No icon: answered empty rather than as a missing page in every browser's console.
    if (path === '/favicon.ico') return send(response, 204, 'image/x-icon', '');
    if (path === '/metrics') return send(response, 200, 'text/plain; version=0.0.4', await metrics());
    try {
      if (path === '/') return send(response, 200, 'text/html', await overview(url.searchParams.get('bucket') === 'hour' ? 'hour' : 'day'));
      if (path === '/sessions') return send(response, 200, 'text/html', await sessions(url.searchParams));
      if (path === '/pipelines') return send(response, 200, 'text/html', await pipelines(url.searchParams));
      if (path === '/search') return send(response, 200, 'text/html', await searchPage(url.searchParams));
      const pipeline = /^\/pipeline\/([0-9a-fA-F-]{36})$/.exec(path);
      if (pipeline !== null) return send(response, 200, 'text/html', await pipelinePage(pipeline[1]!.toLowerCase(), url.searchParams.get('acted')));
      return send(response, 404, 'text/html', problemPage('Not found', `Nothing is at ${path}.`, options.location));
    } catch (error) {
      if (isSessionError(error, 'INVALID_INPUT')) return send(response, 400, 'text/html', problemPage('Not a filter this view takes', error.message, options.location));
      if (isSessionError(error, 'NOT_FOUND')) return send(response, 404, 'text/html', problemPage('Not found', error.message, options.location));
      throw error;
    }
  }

  /** A button's form: from a page of this server only, then through the library; answered with the pipeline's page. */
  async function act(request: IncomingMessage, response: ServerResponse, kind: ActionKind, id: string, who: string | null): Promise<void> {
    if (!sameOrigin(request)) return send(response, 403, 'text/plain', 'an action must come from a page of this dashboard (Origin)\n');
    try {
      const form = await formOf(request);
      const done = await steering!.act(kind, id, who, form.get('reason') ?? '', form.get('add_budget') ?? '');
      response.writeHead(303, { ...SECURITY_HEADERS, location: `/pipeline/${done.root}?acted=${done.notice}#steer` });
      return void response.end();
    } catch (error) {
      if (isSessionError(error, 'INVALID_INPUT')) return send(response, 400, 'text/html', problemPage('Not done', error.message, options.location));
      if (isSessionError(error, 'NOT_FOUND')) return send(response, 404, 'text/html', problemPage('Not found', error.message, options.location));
      throw error;
    }
  }

  // Stats are a function of where the store stands: counted once per seq (a GROUP BY over every
  // row on PostgreSQL), not once per request.
  let statsMemo: { seq: number; stats: SessionStats } | null = null;
  const statsOf = async (reads: SessionReads): Promise<SessionStats> => {
    if (statsMemo === null || statsMemo.seq !== reads.lastSeq || reads.lastSeq === 0) statsMemo = { seq: reads.lastSeq, stats: await reads.stats() };
    return statsMemo.stats;
  };

  // The slots as they stand; a table that cannot be read (a slots.json we did not write) shows nothing rather than failing the page.
  const slotView = (): Promise<SlotView | null> => options.slots?.view().catch(() => null) ?? Promise.resolve(null);

  // Prometheus's scrape: the same figures as the overview, as text; behind the same tokens (a bearer token in Prometheus's own config).
  const metrics = () =>
    options.read(async (reads) => {
      let agentsRunning = 0;
      // Only the Active sessions are read, a page at a time.
      for (let after: string | null = null, first = true; first || after !== null; first = false) {
        const page: SessionPage = await reads.page({ status: 'Active', limit: 500, ...(after === null ? {} : { after }) });
        agentsRunning += page.sessions.filter(agentRunning).length;
        after = page.next;
      }
      return prometheusText({ stats: await statsOf(reads), lastSeq: reads.lastSeq, agentsRunning, slots: await slotView(), appends: options.appendMetrics?.() ?? null });
    });

  const overview = (bucket: 'day' | 'hour') =>
    options.read(async (reads) => {
      const [stats, running, failures] = [await statsOf(reads), await reads.page({ status: 'Active', order: 'newest', limit: 10 }), await reads.page({ status: 'Failed', order: 'newest', limit: 10 })];
      const main = overviewMain(stats, running, failures, Date.now(), charts.current(reads.lastSeq), bucket, reads.lastSeq, concurrencySection(await slotView()));
      return layout({ title: 'Overview', view: 'overview', lastSeq: reads.lastSeq, location: options.location, main });
    });

  const sessions = (params: URLSearchParams) =>
    options.read(async (reads) => {
      const page = await reads.page(queryOf(params));
      return layout({ title: 'Sessions', view: 'sessions', lastSeq: reads.lastSeq, location: options.location, controls: filterForm(params), main: sessionsMain(page, params, Date.now()) });
    });

  const pipelines = (params: URLSearchParams) =>
    options.read(async (reads) => {
      const { order, limit: _limit, after, ...filters } = queryOf(params);
      const { rows, next } = await pipelineRows(reads, filters, after ?? undefined, PIPELINES_PAGE, order);
      return layout({ title: 'Pipelines', view: 'pipelines', lastSeq: reads.lastSeq, location: options.location, controls: filterForm(params, '/pipelines'), main: pipelinesMain(rows, next, params) });
    });

  const searchPage = (params: URLSearchParams) =>
    options.read(async (reads) => {
      const search = searchOf(params);
      const page = search === null ? null : await searchConversations(reads, options.transcripts, search);
      return layout({ title: 'Search', view: 'search', lastSeq: reads.lastSeq, location: options.location, controls: searchForm(params), main: searchMain(page, params) });
    });

  const pipelinePage = (id: string, acted: string | null) =>
    options.read(async (reads) => {
      const root = await reads.rootOf(id);
      if (root === undefined) throw new SessionError('NOT_FOUND', `no session ${id} in ${options.location}`);
      const members = await reads.pipeline(root);
      const conversations = await storedConversations(options.transcripts, members);
      const title = `Pipeline ${root.slice(0, 8)} · ${members.get(root)?.purpose ?? ''}`;
      const running = { sessions: options.logs === undefined ? [] : [...members.values()].filter((s) => s.status === 'Active' && agentRunning(s)), host: hostName(), published: options.store.agentLogs !== undefined };
      const rootSession = members.get(root)!;
      // A pipeline's own stream (its waits for a person), read up to where the sessions were read.
      const streamEvents = rootSession.pipeline === undefined || !canWait(rootSession.pipeline) ? [] : await options.store.readSessionEvents(pipelineIdOf(root), reads.cursor);
      const stream = foldPipelineStream(pipelineIdOf(root), root, streamEvents.filter(isPipelineEvent) as PipelineEvent[]);
      const steer = await steeringSection(members, rootSession, powers, stream);
      const notice = acted === null ? undefined : ACTION_NOTICES[acted];
      const controls = notice === undefined ? undefined : `<p class="notice" role="status" id="notice">${esc(notice)}</p>`;
      const queued = queuedStepsSection(await slotView(), root);
      return layout({ title, view: 'pipeline', lastSeq: reads.lastSeq, location: options.location, controls, main: queued + pipelineMain(members, conversations, Date.now(), members.get(id) ?? members.get(root)!, running, steer) });
    });

  return {
    url: `http://${shown}:${port}/`,
    close: async () => {
      feed.stop();
      await charts.settled();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** The sessions view's query from its address (the names of `list`'s options); the query's own checks refuse a bad one. */
export function queryOf(params: URLSearchParams): SessionQuery {
  const query: Record<string, unknown> = { order: params.get('order') || 'newest', limit: PAGE };
  const given = (name: string) => {
    const value = params.get(name);
    return value === null || value === '' ? undefined : value;
  };
  for (const [param, field] of [['status', 'status'], ['agent', 'agent'], ['phase', 'phase'], ['text', 'text'], ['since', 'createdSince'], ['until', 'createdUntil'], ['after', 'after']] as const) {
    const value = given(param);
    if (value !== undefined) query[field] = value;
  }
  const issue = given('issue');
  if (issue !== undefined) query['issue'] = /^\d+$/.test(issue) ? Number(issue) : issue;
  return query as SessionQuery;
}

/**
 * The end of the log of the agent of session `id`, its control characters escaped (an agent's
 * output is untrusted): from `<logs>/<id>.log` on this host, else as the manager running it on
 * another host published it to the store (PostgreSQL). The path is made from the id, never taken
 * from the log, so nothing but that file can be read. Empty when there is none.
 */
async function logTail(logs: string | undefined, published: AgentLogStore | undefined, id: string): Promise<string> {
  const local = logs === undefined ? null : await logFileTail(join(logs, `${id}.log`));
  const tail = local ?? (await published?.read(id)) ?? null;
  return tail === null ? '' : safeText(tail.toString('utf8'));
}
