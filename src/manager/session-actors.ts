import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { sessionMachine } from '../../machines/session.machine.js';
import type { Session } from '../domain/session.js';
import type { SessionEvent } from '../events/session-event.js';
import { machineContextOf, machineEventOf } from './machine-bridge.js';

/** An XState inspection hook: a callback or observer of inspection events. */
export type SessionInspector = ((event: InspectionEvent) => void) | Observer<InspectionEvent>;

/** A live session actor: the XState actor of one Active session. */
export type SessionActor = Actor<typeof sessionMachine>;

/**
 * The XState actors of the Active sessions. Each actor receives the machine event of every
 * event appended for its session; when it reaches a final state it stops and is dropped.
 */
export class SessionActors {
  private readonly actors = new Map<string, SessionActor>();
  /** Actors built for spawns whose events are being written; adopted when the events apply. */
  private prepared = new Map<string, SessionActor>();

  /** `inspect` receives every actor's inspection events (e.g. Stately's inspector); none when absent. */
  constructor(private readonly inspect?: SessionInspector) {}

  /** Starts one actor per Active session, e.g. after a restart. */
  rebuild(sessions: Iterable<Session>): void {
    for (const actor of this.actors.values()) actor.stop();
    this.actors.clear();
    for (const session of sessions) if (session.status === 'Active') this.start(session);
  }

  /**
   * Builds the actors of sessions about to be spawned while their events are being written, so
   * that cost overlaps the disk's. Not with an inspector: it must see only actors that exist.
   * Leftovers of a write that failed are dropped at the next call.
   */
  prepare(events: readonly SessionEvent[]): void {
    if (this.inspect !== undefined) return;
    for (const actor of this.prepared.values()) actor.stop();
    this.prepared = new Map();
    for (const event of events) {
      if (event.type !== 'SessionSpawned') continue;
      const input = { id: event.sessionId, agentName: event.data.agentName, childSessions: [] };
      this.prepared.set(event.sessionId, createActor(sessionMachine, { input }).start());
    }
  }

  /** Moves the actors the event concerns (`session` is the record after the event). */
  apply(event: SessionEvent, session: Session): void {
    const machineEvent = machineEventOf(event);
    if (machineEvent === null) {
      const prepared = this.prepared.get(session.id);
      if (prepared === undefined) this.start(session);
      else {
        this.prepared.delete(session.id);
        this.actors.set(session.id, prepared);
      }
      return;
    }
    const actor = this.actors.get(event.sessionId);
    if (actor === undefined) return;
    actor.send(machineEvent);
    if (actor.getSnapshot().status === 'done') this.actors.delete(event.sessionId);
  }

  /** The actor of an Active session, if any. */
  get(sessionId: string): SessionActor | undefined {
    return this.actors.get(sessionId);
  }

  /** How many actors are live. */
  get size(): number {
    return this.actors.size;
  }

  /** Stops every actor. */
  stopAll(): void {
    for (const actor of [...this.actors.values(), ...this.prepared.values()]) actor.stop();
    this.actors.clear();
    this.prepared.clear();
  }

  private start(session: Session): void {
    const options = this.inspect === undefined ? {} : { inspect: this.inspect };
    this.actors.set(session.id, createActor(sessionMachine, { input: machineContextOf(session), ...options }).start());
  }
}
