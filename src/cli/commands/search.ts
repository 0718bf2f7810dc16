import type { ConversationSearch } from '../../domain/conversation-search.js';
import { safeLine } from '../../domain/visible-text.js';
import { SessionError } from '../../errors.js';
import { searchConversations, type SearchHit } from '../../query/conversation-search.js';
import { UsageError, intOption, stringOption, type Command } from '../command.js';
import { issueLabel, print, printJson } from '../format.js';
import { withSessionReads } from '../open-store.js';

/** `search "words"`: messages of the stored conversations that hold the words. */
export const searchCommand: Command = {
  name: 'search',
  summary: 'search the stored conversations for words (plain text, whole words, any case): each hit with its session, pipeline and issue',
  usage: 'search <words…> [--agent A] [--issue N] [--since T] [--limit N] [--after CURSOR]',
  example:
    'a1b2c3d4-…  CodeGenAgent  #42  CodeGeneration  HandedOff  pipeline 6f3d9a21-…\n  message 3, assistant: …the migration needs a rollback step before we deploy…',
  options: {
    agent: { type: 'string' },
    issue: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
  },
  async run(context) {
    const text = context.positionals.join(' ');
    if (text.trim().length === 0) throw new UsageError('search needs the words to look for: search "words"');
    const search: ConversationSearch = {
      text,
      agent: stringOption(context, 'agent'),
      issue: intOption(context, 'issue'),
      since: stringOption(context, 'since'),
      limit: intOption(context, 'limit') ?? 20,
      after: stringOption(context, 'after'),
    };
    const page = await withSessionReads(context, (reads, transcripts) => searchConversations(reads, transcripts, search)).catch((error: unknown) => {
      // A bad value on the command line is a usage error, named by its option.
      if (error instanceof SessionError && error.code === 'INVALID_INPUT' && error.message.startsWith('search.')) {
        throw new UsageError(error.message.replace(/^search\.text/, 'the words').replace(/^search\./, '--'));
      }
      throw error;
    });
    if (context.json) printJson(page);
    else if (page.hits.length === 0) print('(no messages found)');
    else for (const hit of page.hits) print(hitLines(hit));
    const more = page.next === null ? '' : `; the next ${search.limit}: --after ${page.next}`;
    process.stderr.write(
      `(${page.hits.length} shown; searched the ${page.searched} stored conversations of ${page.sessions} sessions: a conversation still running, not stored or over the size limit is not searched${more})\n`,
    );
    return 0;
  },
};

/** A hit as two lines: where it is, then the message around the match (escaped: agents wrote it). */
function hitLines(hit: SearchHit): string {
  const where = [hit.sessionId, hit.agentName, issueLabel(hit.issue), hit.phase, hit.status, `pipeline ${hit.pipeline}`].map(safeLine).join('  ');
  const { before, match, after } = hit.excerpt;
  return `${where}\n  message ${hit.message}, ${safeLine(hit.role)}: ${safeLine(before + match + after)}`;
}
