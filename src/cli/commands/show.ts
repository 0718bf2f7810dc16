import { parseSessionId } from '../../manager/decide.js';
import { retryIdOf } from '../../domain/retry-id.js';
import { sessionHistory, withSessionReads } from '../open-store.js';
import { SessionError } from '../../errors.js';
import { requirePositional, type Command } from '../command.js';
import { duration, issueLabel, print, printJson, sessionDuration, table } from '../format.js';
import { safeLine } from '../../domain/visible-text.js';

/** `show <id>`: one session, with every event of its history. */
export const showCommand: Command = {
  name: 'show',
  summary: 'one session in full, with its event history',
  usage: 'show <id>',
  async run(context) {
    const id = parseSessionId(requirePositional(context, 0, 'session id'));
    const { session, retry, cursor, location } = await withSessionReads(context, async (reads) => {
      const found = await reads.getMany([id, retryIdOf(id)]);
      return { session: found.get(id), retry: found.get(retryIdOf(id)), cursor: reads.cursor, location: reads.location };
    });
    if (session === undefined) throw new SessionError('NOT_FOUND', `no session ${id} in ${location}`, { sessionId: id });
    // Its own events only, up to where the view was read: not a replay of the store.
    const history = await sessionHistory(context, session, cursor);
    if (context.json) {
      printJson({ session, events: history });
      return 0;
    }
    const fields: Array<[string, string]> = [
      ['id', session.id],
      ['agent', session.agentName],
      ['status', session.status],
      ['purpose', session.purpose],
      ['issue', issueLabel(session.context.issueNumber)],
      ['phase', session.context.currentPhase],
      ['worktree', session.context.worktreePath ?? '—'],
      ['created', session.createdAt],
      ['ended', session.endedAt ?? (session.status !== 'Active' ? 'not recorded (imported)' : '—')],
      ['duration', duration(sessionDuration(session))],
      ['parent', session.parentSession ?? '—'],
      ['children', session.childSessions.join(', ') || '—'],
    ];
    if (session.handoffTo !== undefined) fields.push(['handed off to', session.handoffTo]);
    if (session.result !== undefined) fields.push(['result', `${session.result.success ? 'success' : 'failure'}: ${session.result.output}`]);
    if (session.error !== undefined) fields.push(['error', `${session.error}${session.interrupted === true ? ' (interrupted)' : ''}`]);
    if (session.retryOf !== undefined) fields.push(['retry of', session.retryOf]);
    if (session.status === 'Failed' && retry !== undefined) fields.push(['retried as', retry.id]);
    if (session.imported === true) fields.push(['imported', "from the original's sessions.json, not observed here"]);
    if (session.agent !== undefined) fields.push(['agent process', `pid ${session.agent.process.pid}, log ${session.agent.logFile}`]);
    const stop = session.agent?.stopRequest;
    if (stop !== undefined) fields.push(['stop asked', `by ${stop.by} at ${stop.at}: ${stop.reason}${session.status === 'Active' ? ' (pending)' : ''}`]);
    if (session.startedBy !== undefined) fields.push(['started by', session.startedBy]);
    if (session.endedBy !== undefined) fields.push(['ended by', session.endedBy]);
    // A value of many lines keeps its lines, indented under it; each is escaped (agents' text is untrusted).
    for (const [k, v] of fields) print(`${k.padEnd(14)} ${v.split('\n').map(safeLine).join(`\n${' '.repeat(15)}`)}`);
    print('');
    print(table(['SEQ', 'TIME', 'EVENT', 'BY'], history.map((e) => [String(e.seq), e.timestamp, e.imported === true ? `${e.type} (imported)` : e.type, e.by ?? ''])));
    return 0;
  },
};
