import { PHASES } from '../../domain/phase.js';
import { SessionStatusSchema } from '../../domain/session-status.js';
import { MAX_PAGE, SESSION_ORDERS, parseSessionQuery, type SessionQuery } from '../../projections/session-query.js';
import { withSessionReads } from '../open-store.js';
import { UsageError, intOption, stringOption, type Command, type CommandContext } from '../command.js';
import { SESSION_COLUMNS, print, printJson, sessionCells, sessionsTable, tableLine } from '../format.js';
import { LinesOut, writePiece } from '../ndjson-out.js';
import { SessionError } from '../../errors.js';

/** Column widths of a streamed table (`--all`), which cannot measure its rows first. */
const STREAM_WIDTHS = [36, 14, 9, 14, 6, 24, 0];

/** The options that filter sessions, shared by `list` and `report`. */
export const FILTER_OPTIONS = {
  status: { type: 'string' },
  agent: { type: 'string' },
  phase: { type: 'string' },
  issue: { type: 'string' },
  pipeline: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'ended-since': { type: 'string' },
  'ended-until': { type: 'string' },
  text: { type: 'string' },
} as const;

/** The query `list`'s options ask for (also `report`'s filters). Throws a usage error for a bad value. */
export function queryOf(context: CommandContext): SessionQuery {
  const statuses = stringOption(context, 'status')?.split(',');
  for (const status of statuses ?? []) {
    if (!SessionStatusSchema.safeParse(status).success) throw new UsageError(`--status must be one or more of ${SessionStatusSchema.options.join(', ')} (comma-separated)`);
  }
  const phase = stringOption(context, 'phase');
  if (phase !== undefined && !(PHASES as readonly string[]).includes(phase)) throw new UsageError(`--phase must be one of ${PHASES.join(', ')}`);
  const order = stringOption(context, 'order') ?? 'spawn';
  if (!(SESSION_ORDERS as readonly string[]).includes(order)) throw new UsageError(`--order must be one of ${SESSION_ORDERS.join(', ')}`);
  const query: SessionQuery = {
    status: statuses as SessionQuery['status'],
    agent: stringOption(context, 'agent'),
    phase: phase as SessionQuery['phase'],
    issue: intOption(context, 'issue'),
    pipeline: stringOption(context, 'pipeline'),
    createdSince: stringOption(context, 'since'),
    createdUntil: stringOption(context, 'until'),
    endedSince: stringOption(context, 'ended-since'),
    endedUntil: stringOption(context, 'ended-until'),
    text: stringOption(context, 'text'),
    order: order as SessionQuery['order'],
    limit: intOption(context, 'limit') ?? 100,
    after: stringOption(context, 'after'),
  };
  const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as SessionQuery;
  try {
    parseSessionQuery(defined);
  } catch (error) {
    // A bad value on the command line is a usage error, named by its option.
    if (error instanceof SessionError) throw new UsageError(error.message.replace(/^query\./, '--'));
    throw error;
  }
  return defined;
}

/** `list`: a page of sessions matching filters, or all of them streamed. */
export const listCommand: Command = {
  name: 'list',
  summary: 'list sessions: filters, order, a page at a time (--limit, --after) or --all streamed',
  usage:
    'list [--status S[,S]] [--agent A] [--phase P] [--issue N] [--pipeline ROOT] [--since T] [--until T] [--ended-since T] [--ended-until T] [--text T] [--order spawn|newest|failures-first] [--limit N] [--after CURSOR] [--all]',
  options: {
    ...FILTER_OPTIONS,
    order: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
    all: { type: 'boolean', default: false },
  },
  example: 'ID                                    AGENT         STATUS     PHASE           ISSUE  CREATED                   DURATION\n6f3d9a21-9f3c-4cef-a8c1-2df6efa770e3  CodeGenAgent  HandedOff  CodeGeneration  #42    2026-11-25T16:30:10.881Z  963 ms',
  async run(context) {
    const query = queryOf(context);
    if (context.values['all'] === true && (context.values['limit'] !== undefined || context.values['after'] !== undefined)) {
      throw new UsageError('--all lists every match: it takes no --limit or --after');
    }
    await withSessionReads(context, async (reads) => {
      if (context.values['all'] === true) {
        const { limit: _limit, after: _after, ...filters } = query;
        if (context.json) {
          for await (const piece of reads.lines(filters)) await writePiece(piece);
        } else {
          const out = new LinesOut();
          await out.line(tableLine(SESSION_COLUMNS, STREAM_WIDTHS));
          for await (const session of reads.stream(filters)) await out.line(tableLine(sessionCells(session), STREAM_WIDTHS));
          await out.flush();
        }
        return;
      }
      const page = await reads.page(query);
      if (context.json) printJson(page.sessions);
      else print(page.sessions.length === 0 ? '(no sessions)' : sessionsTable(page.sessions));
      if (page.next !== null) process.stderr.write(`(${page.sessions.length} shown; the next ${Math.min(query.limit ?? 100, MAX_PAGE)}: --after ${page.next}; every one: --all)\n`);
    });
    return 0;
  },
};
