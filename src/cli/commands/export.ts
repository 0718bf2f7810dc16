import { open } from 'node:fs/promises';
import { storageError } from '../../errors.js';
import { LinesOut } from '../ndjson-out.js';
import type { Session } from '../../domain/session.js';
import { forEachEventLine, withSessionReads } from '../open-store.js';
import { issueLabel, print, printJson } from '../format.js';
import { UsageError, stringOption, type Command, type CommandContext } from '../command.js';
import { exportTraces } from '../../report/otlp-export.js';
import { headersOf } from '../headers.js';
import { InstantSchema } from '../../domain/limits.js';

const STATUS_COLOR: Record<Session['status'], string> = { Active: '#1f6feb', HandedOff: '#8957e5', Completed: '#1a7f37', Failed: '#cf222e' };

/**
 * A lineage picture as lines: its head, each session's lines in spawn order, its tail. A child
 * comes after its parent in spawn order, so a session's edge from its parent can follow its own
 * node: one pass, with nothing held back.
 */
interface LineageFormat {
  head: string[];
  session(session: Session): string[];
  tail: string[];
}

const nodeLabel = (s: Session, newline: string) => `${s.agentName}${newline}${s.status} · ${s.context.currentPhase}${newline}${issueLabel(s.context.issueNumber)} ${s.id.slice(0, 8)}`;

/** The lineage of every pipeline as a Mermaid flowchart. */
const MERMAID: LineageFormat = {
  head: ['flowchart TD'],
  session: (s) => {
    const node = `s${s.id.replaceAll('-', '')}`;
    const lines = [`  ${node}["${nodeLabel(s, '<br/>')}"]:::${s.status}`];
    if (s.parentSession !== null) lines.push(`  s${s.parentSession.replaceAll('-', '')} --> ${node}`);
    return lines;
  },
  tail: Object.entries(STATUS_COLOR).map(([status, color]) => `  classDef ${status} stroke:${color},stroke-width:2px`),
};

const quoteDot = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;

/** The lineage of every pipeline as a Graphviz DOT digraph. */
const DOT: LineageFormat = {
  head: ['digraph lineage {', '  rankdir=LR;', '  node [shape=box, style=rounded];'],
  session: (s) => {
    const lines = [`  ${quoteDot(s.id)} [label=${quoteDot(nodeLabel(s, '\n'))}, color=${quoteDot(STATUS_COLOR[s.status])}];`];
    if (s.parentSession !== null) lines.push(`  ${quoteDot(s.parentSession)} -> ${quoteDot(s.id)};`);
    return lines;
  },
  tail: ['}'],
};

/** `export`: sessions.json in the original format, the lineage as Mermaid or DOT, the events as NDJSON, or the pipelines' traces to an OTLP endpoint. */
export const exportCommand: Command = {
  name: 'export',
  summary: 'write sessions.json (original format), lineage as mermaid or dot, events as ndjson, or send the pipelines as OpenTelemetry traces (otlp)',
  usage: 'export [--format sessions|mermaid|dot|ndjson] [--out FILE] | export --format otlp --endpoint URL [--since T] [--tool-spans] [--header K=V]…',
  options: {
    format: { type: 'string', default: 'sessions' },
    out: { type: 'string' },
    endpoint: { type: 'string' },
    since: { type: 'string' },
    'tool-spans': { type: 'boolean', default: false },
    header: { type: 'string', multiple: true },
  },
  example: 'flowchart TD\n  s6f3d…["CodeGenAgent<br/>HandedOff · CodeGeneration<br/>#42 6f3d9a21"]:::HandedOff\n  s6f3d… --> s6e50…',
  async run(context) {
    const format = stringOption(context, 'format') ?? 'sessions';
    const out = stringOption(context, 'out');
    if (format === 'otlp') return exportOtlp(context);
    if (format === 'ndjson') {
      // Streamed as the log is read: memory stays flat whatever the store's size.
      await writeOut(out, (lines) => forEachEventLine(context, (line) => lines.line(line)));
      return 0;
    }
    const lineage = format === 'mermaid' ? MERMAID : format === 'dot' ? DOT : null;
    if (lineage === null && format !== 'sessions') throw new UsageError(`--format must be sessions, mermaid, dot, ndjson or otlp, got "${format}"`);
    // Streamed as the sessions are read, in spawn order: memory stays flat whatever the store's size.
    await withSessionReads(context, (reads) =>
      writeOut(out, async (lines) => {
        if (lineage === null) {
          for await (const piece of reads.sessionsFile()) await lines.piece(piece);
          return;
        }
        for (const line of lineage.head) await lines.line(line);
        for await (const session of reads.stream({})) for (const line of lineage.session(session)) await lines.line(line);
        for (const line of lineage.tail) await lines.line(line);
      }),
    );
    return 0;
  },
};

/**
 * Runs `write` on lines to `--out`'s file (closed when it is done), or to stdout. A file that
 * cannot be opened or written fails the command with `STORAGE`, naming it.
 */
async function writeOut(out: string | undefined, write: (lines: LinesOut) => Promise<void>): Promise<void> {
  if (out === undefined) {
    const lines = new LinesOut();
    await write(lines);
    await lines.flush();
    return;
  }
  const handle = await open(out, 'w').catch((error: unknown) => {
    throw storageError('writing', out, error);
  });
  const file = handle.createWriteStream();
  // A write that fails ends the wait for the stream to drain, which would otherwise never come.
  const failed = new Promise<never>((_, reject) => file.once('error', (error) => reject(storageError('writing', out, error))));
  failed.catch(() => undefined);
  const lines = new LinesOut(file);
  await Promise.race([write(lines).then(() => lines.flush()), failed]);
  const ended = new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error == null ? resolve() : reject(storageError('writing', out, error)))));
  await Promise.race([ended, failed]);
}

/** `export --format otlp`: every ended session's spans (and each finished pipeline's) sent to `--endpoint`. */
async function exportOtlp(context: CommandContext): Promise<number> {
  const endpoint = stringOption(context, 'endpoint');
  if (endpoint === undefined || !/^https?:\/\//.test(endpoint)) throw new UsageError('--format otlp needs --endpoint http(s)://…/v1/traces');
  const since = stringOption(context, 'since');
  if (since !== undefined && !InstantSchema.safeParse(since).success) throw new UsageError('--since must be a date or time (ISO 8601)');
  const headers = headersOf((context.values['header'] as string[] | undefined) ?? [], '--header');
  const report = await withSessionReads(context, (reads, transcripts) =>
    exportTraces(reads, transcripts, { endpoint, headers, toolSpans: context.values['tool-spans'] === true, ...(since === undefined ? {} : { since }) }),
  );
  if (context.json) printJson(report);
  else print(`sent ${report.spans} spans (${report.traces} finished pipelines) to ${endpoint}`);
  return 0;
}
