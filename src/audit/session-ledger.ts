import { sessionMachine } from '../../machines/session.machine.js';
import type { SessionStatus } from '../domain/session-status.js';
import { isPipelineEvent, type PipelineEvent, type SessionEvent, type SessionStreamEvent } from '../events/session-event.js';
import { pipelineIdOf } from '../domain/pipeline-id.js';
import { nextStreamState, pipelineStreamRefusal, type PipelineStreamState } from '../projections/pipeline-stream.js';
import { machineEventOf } from '../manager/machine-bridge.js';
import { spawnRefusal, type SpawnedSessions } from '../projections/sessions-projection.js';
import { UuidTable } from './uuid-table.js';

/** Where an event stands in the log. */
export interface Place {
  line: number;
  offset: number;
}

/** A handoff whose child the log never spawned as that session's child. */
export interface BrokenHandoff extends Place {
  parent: string;
  child: string;
}

const STATUSES: readonly SessionStatus[] = ['Active', 'HandedOff', 'Completed', 'Failed'];
const MACHINE_STATE = ['active', 'handedOff', 'completed', 'failed'] as const;

// One byte of facts a session: its status (bits 0–1), its agent's run (bits 2–3: none, running,
// finished), whether a stop was asked of that run (bit 4), whether it was imported (bit 5).
const STATUS_BITS = 0b11;
const AGENT_SHIFT = 2;
const AGENT_BITS = 0b11 << AGENT_SHIFT;
const NO_AGENT = 0;
const RUNNING = 1 << AGENT_SHIFT;
const FINISHED = 2 << AGENT_SHIFT;
const STOP_ASKED = 1 << 4;
const IMPORTED = 1 << 5;

/**
 * What the audit keeps of every session of a log: one byte of facts (status, its agent's run,
 * a stop asked, imported) by the ordinal of its id in a {@link UuidTable}: about 25 bytes a
 * session, where whole sessions took 2 KB. Handoffs whose child is not spawned yet are kept
 * apart (a pipeline spawns the child in the handoff's own transaction, so there are few).
 *
 * The session machine judges every event, as it does when a manager decides: its guards read
 * only the state and whether the agent runs, finished and was asked to stop, so its verdict is
 * one of a few, asked of the machine once each and kept. The lineage rules are the projection's
 * ({@link spawnRefusal}), asked of this ledger.
 */
export class SessionLedger implements SpawnedSessions {
  private readonly ids = new UuidTable();
  private facts = new Uint8Array(1024);
  /** Children handed off to and not spawned yet: the handoffs that name each. */
  private readonly awaited = new Map<string, Array<Place & { parent: string }>>();
  private readonly broken: BrokenHandoff[] = [];
  private readonly verdicts = new Map<number, boolean>();
  /** Where each pipeline stream stands (only pipelines with a stream: the governed ones that waited). */
  private readonly pipelineStreams = new Map<string, PipelineStreamState>();
  private importedCount = 0;
  /** The last id looked up and its ordinal: an event is judged, then folded. */
  private lastId = '';
  private lastOrdinal = -1;

  /** Sessions spawned. */
  get sessions(): number {
    return this.ids.size;
  }

  /** Sessions spawned by an import of the original's store. */
  get imported(): number {
    return this.importedCount;
  }

  statusOf(id: string): SessionStatus | undefined {
    const ordinal = this.ids.ordinalOf(id);
    return ordinal === -1 ? undefined : STATUSES[this.facts[ordinal]! & STATUS_BITS];
  }

  handedOffTo(parent: string, child: string): boolean {
    return this.awaited.get(child)?.some((handoff) => handoff.parent === parent) === true;
  }

  /** Why the session machine, the lineage rules or a pipeline stream's rules refuse `event`, or null when it fits. */
  refusal(event: SessionEvent): string | null {
    if (event.type === 'SessionSpawned') return spawnRefusal(this, event);
    if (isPipelineEvent(event)) return this.pipelineRefusal(event);
    const ordinal = this.ordinalOf(event.sessionId);
    if (ordinal === -1) return `${event.type} for session ${event.sessionId}, which was never spawned`;
    const facts = this.facts[ordinal]!;
    if (!this.machineAllows(facts, event)) return `${event.type} is not allowed: session ${event.sessionId} is ${STATUSES[facts & STATUS_BITS]}`;
    return null;
  }

  /** Folds an event {@link refusal} found nothing against, found at `at`. */
  apply(event: SessionEvent, at: Place): void {
    if (event.type === 'SessionSpawned') return this.spawn(event);
    if (isPipelineEvent(event)) return void this.pipelineStreams.set(event.sessionId, nextStreamState(this.pipelineStreams.get(event.sessionId) ?? 'open', event));
    const ordinal = this.ordinalOf(event.sessionId);
    const facts = this.facts[ordinal]!;
    switch (event.type) {
      case 'SessionAgentStarted':
        this.facts[ordinal] = (facts & ~(AGENT_BITS | STOP_ASKED)) | RUNNING;
        return;
      case 'SessionAgentFinished':
        this.facts[ordinal] = (facts & ~AGENT_BITS) | FINISHED;
        return;
      case 'SessionStopRequested':
        this.facts[ordinal] = facts | STOP_ASKED;
        return;
      case 'SessionHandedOff':
        this.end(ordinal, 'HandedOff');
        this.await(event.data.childSession, { parent: event.sessionId, ...at });
        return;
      case 'SessionCompleted':
      case 'SessionFailed':
        return this.end(ordinal, event.type === 'SessionCompleted' ? 'Completed' : 'Failed');
    }
  }

  /** A pipeline stream's event: its root spawned, the stream its root's, in the order the stream's rules allow. */
  private pipelineRefusal(event: PipelineEvent): string | null {
    const { rootId } = event.data;
    if (this.statusOf(rootId) === undefined) return `${event.type} for pipeline ${rootId}, whose root was never spawned`;
    if (pipelineIdOf(rootId) !== event.sessionId) return `${event.type} in stream ${event.sessionId}, which is not the stream of pipeline ${rootId}`;
    const refusal = pipelineStreamRefusal(this.pipelineStreams.get(event.sessionId) ?? 'open', event);
    return refusal === null ? null : `${event.type} is not allowed: ${refusal} (pipeline ${rootId})`;
  }

  /** Every handoff whose child was spawned with another parent, or never: known once the log is read. */
  brokenHandoffs(): BrokenHandoff[] {
    const stillAwaited = [...this.awaited].flatMap(([child, handoffs]) => handoffs.map((h) => ({ ...h, child })));
    return [...this.broken, ...stillAwaited];
  }

  private ordinalOf(id: string): number {
    if (id !== this.lastId) {
      this.lastId = id;
      this.lastOrdinal = this.ids.ordinalOf(id);
    }
    return this.lastOrdinal;
  }

  private spawn(event: Extract<SessionEvent, { type: 'SessionSpawned' }>): void {
    const ordinal = this.ids.add(event.sessionId);
    this.lastId = event.sessionId;
    this.lastOrdinal = ordinal;
    if (ordinal === this.facts.length) {
      const grown = new Uint8Array(this.facts.length * 2);
      grown.set(this.facts);
      this.facts = grown;
    }
    this.facts[ordinal] = event.imported === true ? IMPORTED : 0;
    if (event.imported === true) this.importedCount += 1;
    const handoffs = this.awaited.get(event.sessionId);
    if (handoffs === undefined) return;
    // Spawned as one handoff's child: any other session that handed off to it did so wrongly.
    this.awaited.delete(event.sessionId);
    for (const handoff of handoffs) if (handoff.parent !== event.data.parentSession) this.broken.push({ ...handoff, child: event.sessionId });
  }

  private end(ordinal: number, status: SessionStatus): void {
    this.facts[ordinal] = (this.facts[ordinal]! & ~STATUS_BITS) | STATUSES.indexOf(status);
  }

  /** Keeps a handoff until its child is spawned (one spawned already never is again: it stays, and is reported). */
  private await(child: string, handoff: Place & { parent: string }): void {
    const handoffs = this.awaited.get(child);
    if (handoffs === undefined) this.awaited.set(child, [handoff]);
    else handoffs.push(handoff);
  }

  /** The machine's verdict on `event` for a session with these facts, asked once per kind. */
  private machineAllows(facts: number, event: Exclude<SessionStreamEvent, { type: 'SessionSpawned' }>): boolean {
    const key = ((facts & ~IMPORTED) << 4) | TYPE_CODE[event.type];
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    const agent = facts & AGENT_BITS;
    const snapshot = sessionMachine.resolveState({
      value: MACHINE_STATE[facts & STATUS_BITS]!,
      context: {
        id: event.sessionId,
        agentName: '',
        childSessions: [],
        ...(agent === NO_AGENT ? {} : { agent: { pid: 0, finished: agent === FINISHED, ...((facts & STOP_ASKED) !== 0 ? { stopRequested: true } : {}) } }),
      },
    });
    const verdict = snapshot.can(machineEventOf(event)!);
    this.verdicts.set(key, verdict);
    return verdict;
  }
}

const TYPE_CODE: Record<Exclude<SessionStreamEvent['type'], 'SessionSpawned'>, number> = {
  SessionAgentStarted: 0,
  SessionAgentFinished: 1,
  SessionStopRequested: 2,
  SessionHandedOff: 3,
  SessionCompleted: 4,
  SessionFailed: 5,
};
