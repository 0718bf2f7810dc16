import type { IncomingMessage } from 'node:http';
import { usdOfText } from '../domain/agent-caps.js';
import type { Session } from '../domain/session.js';
import { isSessionError, SessionError } from '../errors.js';
import type { SessionManager } from '../manager/session-manager.js';
import { resumePipeline } from '../pipeline/run-pipeline.js';
import { approvePipeline, rejectPipeline } from '../pipeline/approve-pipeline.js';
import { resumable, type ActionKind, type SteeringPowers } from './steering.js';

/*
 * What the dashboard's buttons do. Each goes through the library, so the session machine
 * decides and the log records it with who did it (`by`): a stop request for any running agent,
 * and, when the server runs agents on its host (`serve --agents`), a retry of a failed step or a
 * resumed pipeline, moved on by this server as `pipeline resume` would. Each acts once: a retry
 * has the failed session's one retry id, a second stop request is refused by the machine, and a
 * pipeline this server moves on already is not started twice.
 */

/** What the dashboard may do besides reading; without it, it only reads. */
export interface DashboardActions {
  /** The manager actions go through, opened on first use (with a runner for `--agents`). */
  manager: () => Promise<SessionManager>;
  /** True when that manager runs agents on this host: retry and resume are offered. */
  agents: boolean;
  /** Who acts when no token names anyone (a loopback server without tokens): the OS user. */
  localUser: string;
}

/** What an action did: the pipeline to show, and the notice's code. */
export interface ActionOutcome {
  root: string;
  notice: string;
}

/** A form's body is a few fields: anything longer is refused before it is read whole. */
const MAX_FORM_BYTES = 4096;
/** How much of a reason typed into the page is kept. */
const MAX_REASON = 500;

/** A pipeline claimed by a resume that is still looking at it. */
const CLAIMED = Promise.resolve();

/** Carries out the dashboard's actions, and keeps the pipelines this server moves on. */
export class Steering {
  private readonly driving = new Map<string, Promise<void>>();

  constructor(
    private readonly actions: DashboardActions,
    /** A pipeline's sessions by id, root first, as the store holds them now. */
    private readonly pipelineOf: (root: string) => Promise<ReadonlyMap<string, Session>>,
    private readonly warn: (text: string) => void,
  ) {}

  /** What the pages offer. */
  get powers(): SteeringPowers {
    return { stop: true, agents: this.actions.agents };
  }

  /** Carries out one action for `who`. Throws `INVALID_INPUT` for an action this server does not offer, `NOT_FOUND`. */
  async act(kind: ActionKind, id: string, who: string | null, reason: string, addBudget = ''): Promise<ActionOutcome> {
    const by = who ?? this.actions.localUser;
    if (kind === 'approve' || kind === 'reject') return this.answer(kind, id, by, reason, addBudget);
    if (kind !== 'stop' && !this.actions.agents) throw new SessionError('INVALID_INPUT', `this server runs no agents (start it with --agents to ${kind} from the page)`);
    const manager = await this.actions.manager();
    const lineage = await manager.getSessionLineage(id);
    const root = lineage[0]!.id;
    const outcome = (notice: string): ActionOutcome => ({ root, notice });
    try {
      if (kind === 'stop') {
        await manager.requestStop(id, { by, reason: reason.trim().slice(0, MAX_REASON) || 'stopped from the dashboard' });
        return outcome('stop-requested');
      }
      if (kind === 'retry') {
        await manager.retrySession(id, { by });
        if (lineage[0]!.pipeline === undefined) return outcome('retried-alone');
        // The pipeline goes on after its retried step, as its own run would have.
        if (!this.driving.has(root)) this.drive(manager, root, by);
        return outcome('retried');
      }
      if (id !== root) throw new SessionError('INVALID_INPUT', `session ${id} is not the root of a pipeline`);
      if (this.driving.has(root)) return outcome('resuming-already');
      // Claimed before the next await: a second click arriving meanwhile finds it taken.
      this.driving.set(root, CLAIMED);
      let members: ReadonlyMap<string, Session>;
      try {
        members = await this.pipelineOf(root);
        if (!(await resumable(members, members.get(root)!))) {
          this.driving.delete(root);
          return outcome('not-resumable');
        }
      } catch (error) {
        this.driving.delete(root);
        throw error;
      }
      this.drive(manager, root, by);
      return outcome('resuming');
    } catch (error) {
      if (isSessionError(error, 'ALREADY_EXISTS')) return outcome('retried-already');
      if (isSessionError(error, 'INVALID_TRANSITION')) return outcome(kind === 'stop' ? 'stop-refused' : 'refused');
      throw error;
    }
  }

  /**
   * Answers a pipeline that waits for a person, on its stream, as `pipeline approve|reject`
   * does: whichever process runs the pipeline goes on (this one, if it moves it on).
   */
  private async answer(kind: 'approve' | 'reject', root: string, by: string, reason: string, addBudget: string): Promise<ActionOutcome> {
    const manager = await this.actions.manager();
    const text = addBudget.trim();
    const usd = text === '' ? undefined : usdOfText(text);
    if (usd === null) throw new SessionError('INVALID_INPUT', `the US dollars to add must be a plain amount like 0.50, not ${JSON.stringify(text.slice(0, 20))}`);
    try {
      if (kind === 'approve') await approvePipeline(manager, root, { by, ...(usd === undefined ? {} : { addBudgetUsd: usd }) });
      else await rejectPipeline(manager, root, { by, reason: reason.trim().slice(0, MAX_REASON) || 'rejected from the dashboard' });
      return { root, notice: kind === 'approve' ? 'approved' : 'rejected' };
    } catch (error) {
      if (isSessionError(error, 'INVALID_TRANSITION')) return { root, notice: 'answered-already' };
      throw error;
    }
  }

  /**
   * Moves a pipeline on in the background, as `pipeline resume` does, until it ends or the
   * manager closes (which stops its agents: their steps fail as interrupted, for a later resume).
   */
  private drive(manager: SessionManager, root: string, by: string): void {
    const run = resumePipeline(manager, root, { by })
      .then(
        (result) => this.warn(`pipeline ${root} ${result.status}${result.error === undefined ? '' : `: ${result.error}`}`),
        (error: unknown) => {
          if (!isSessionError(error, 'CLOSED')) this.warn(`pipeline ${root} stopped moving: ${(error as Error).message}`);
        },
      )
      .finally(() => this.driving.delete(root));
    this.driving.set(root, run);
  }
}

/**
 * Whether a state-changing request comes from a page of this server: its `Origin` names the
 * host the browser asked (`Host`), over http, or https when a proxy in front of the server ends
 * TLS; without an Origin, the browser's own `Sec-Fetch-Site: same-origin`. Anything else
 * (another site's form, a `null` origin) is refused.
 */
export function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  const host = request.headers.host?.toLowerCase();
  if (origin === undefined) return request.headers['sec-fetch-site'] === 'same-origin';
  return host !== undefined && (origin.toLowerCase() === `http://${host}` || origin.toLowerCase() === `https://${host}`);
}

/** The fields of a form post (URL-encoded, at most a few KiB). Throws `INVALID_INPUT` for anything else. */
export async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new SessionError('INVALID_INPUT', 'an action is a form post (application/x-www-form-urlencoded)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new SessionError('INVALID_INPUT', `an action's form is at most ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
