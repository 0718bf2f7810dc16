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
 * When the actor of an Active session is started: `'eager'` at spawn (and at open, for every
 * Active session); `'on-demand'` the first time it is asked for (`actorOf`), from the session's
 * record — a virtual actor, as in Orleans: it always exists logically and is activated on use.
 */
export type ActorActivation = 'eager' | 'on-demand';

/**
 * The XState actors of the Active sessions. Each live actor receives the machine event of every
 * event appended for its session; when it reaches a final state it stops and is dropped.
 * Whether or not an actor is live, every move is decided by the same machine before it is
 * written (see decide.ts); the actors are how a session is watched, so with `'on-demand'`
 * activation a manager of many sessions pays for the ones someone watches.
 */
export class SessionActors {
  private readonly actors = new Map<string, SessionActor>();
  /** Actors built for spawns whose events are being written; adopted when the events apply. */
  private prepared = new Map<string, SessionActor>();

  /**
   * `inspect` receives every actor's inspection events (e.g. Stately's inspector); none when
   * absent. With an inspector actors are eager, so it sees every session from its spawn.
   */
  constructor(
    private readonly inspect?: SessionInspector,
    readonly activation: ActorActivation = inspect === undefined ? 'on-demand' : 'eager',
  ) {}

  /** Starts one actor per Active session if eager (e.g. after a restart); drops every actor either way. */
  rebuild(sessions: Iterable<Session>): void {
    this.stopAll();
    if (this.activation !== 'eager') return;
    for (const session of sessions) if (session.status === 'Active') this.start(session);
  }

  /**
   * Eager, without an inspector: builds the actors of sessions about to be spawned while their
   * events are being written, so that cost overlaps the disk's (an inspector must see only actors
   * that exist). Leftovers of a write that failed are dropped at the next call.
   */
  prepare(events: readonly SessionEvent[]): void {
    if (this.activation !== 'eager' || this.inspect !== undefined) return;
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
      if (this.activation !== 'eager') return;
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

  /**
   * The actor of an Active session (`session` is its current record), activated now if it is
   * on-demand and not live yet; undefined for a session that has ended or does not exist.
   */
  get(sessionId: string, session: Session | undefined): SessionActor | undefined {
    const live = this.actors.get(sessionId);
    if (live !== undefined || session === undefined || session.status !== 'Active') return live;
    return this.start(session);
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

  private start(session: Session): SessionActor {
    const options = this.inspect === undefined ? {} : { inspect: this.inspect };
    const actor = createActor(sessionMachine, { input: machineContextOf(session), ...options }).start();
    this.actors.set(session.id, actor);
    return actor;
  }
}
