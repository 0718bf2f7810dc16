import { SessionError } from '../../errors.js';
import { parseSessionId } from '../../manager/decide.js';
import { FileTranscripts } from '../../store/file/file-transcripts.js';
import { requirePositional, type Command } from '../command.js';
import { print, printJson } from '../format.js';
import { safeText } from '../../domain/visible-text.js';
import { contextStore } from '../open-store.js';
import { transcriptEntries, transcriptMessages } from '../../report/transcript-text.js';

/** `transcript <id>`: a session's stored conversation. */
export const transcriptCommand: Command = {
  name: 'transcript',
  summary: 'a session\'s stored conversation (the Claude Code transcript kept when its agent ended)',
  usage: 'transcript <id> [--raw]',
  example: 'user: You are CodeGenAgent, working on GitHub issue #42 …\nassistant: Implemented feature X in src/x.ts',
  options: { raw: { type: 'boolean', default: false } },
  async run(context) {
    const id = parseSessionId(requirePositional(context, 0, 'session id'));
    const store = contextStore(context);
    let content: Buffer | null;
    try {
      content = await (store?.transcripts ?? new FileTranscripts(context.dir)).load(id);
    } finally {
      await store?.close();
    }
    if (content === null) throw new SessionError('NOT_FOUND', `no stored transcript of session ${id} in ${store?.location ?? context.dir}`, { sessionId: id });
    if (context.values['raw'] === true) {
      // The exact bytes for a pipe; on a terminal, its control characters shown escaped.
      process.stdout.write(process.stdout.isTTY === true ? safeText(content.toString('utf8')) : content);
      return 0;
    }
    if (context.json) printJson(transcriptEntries(content));
    else for (const text of transcriptMessages(content)) print(text);
    return 0;
  },
};
