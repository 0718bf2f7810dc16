import { writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { LinesOut } from '../ndjson-out.js';
import type { Session } from '../../domain/session.js';
import { renderSessionsFile } from '../../checkpoint/sessions-file.js';
import { forEachEventLine, loadView, withSessionReads } from '../open-store.js';
import { issueLabel, print, printJson } from '../format.js';
import { UsageError, stringOption, type Command, type CommandContext } from '../command.js';
import { exportTraces } from '../../report/otlp-export.js';
import { headersOf } from '../headers.js';
import { InstantSchema } from '../../domain/limits.js';

const STATUS_COLOR: Record<Session['status'], string> = { Active: '#1f6feb', HandedOff: '#8957e5', Completed: '#1a7f37', Failed: '#cf222e' };

/** The lineage of every pipeline as a Mermaid flowchart. */
export function lineageMermaid(sessions: Iterable<Session>): string {
  const lines = ['flowchart TD'];
  const list = [...sessions];
  for (const s of list) lines.push(`  s${s.id.replaceAll('-', '')}["${s.agentName}<br/>${s.status} · ${s.context.currentPhase}<br/>${issueLabel(s.context.issueNumber)} ${s.id.slice(0, 8)}"]:::${s.status}`);
  for (const s of list) if (s.parentSession !== null) lines.push(`  s${s.parentSession.replaceAll('-', '')} --> s${s.id.replaceAll('-', '')}`);
  for (const [status, color] of Object.entries(STATUS_COLOR)) lines.push(`  classDef ${status} stroke:${color},stroke-width:2px`);
  return `${lines.join('\n')}\n`;
}

/** The lineage of every pipeline as a Graphviz DOT digraph. */
export function lineageDot(sessions: Iterable<Session>): string {
  const quote = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
  const lines = ['digraph lineage {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  const list = [...sessions];
  for (const s of list) {
    lines.push(`  ${quote(s.id)} [label=${quote(`${s.agentName}\n${s.status} · ${s.context.currentPhase}\n${issueLabel(s.context.issueNumber)} ${s.id.slice(0, 8)}`)}, color=${quote(STATUS_COLOR[s.status])}];`);
  }
  for (const s of list) if (s.parentSession !== null) lines.push(`  ${quote(s.parentSession)} -> ${quote(s.id)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

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
      const file = out === undefined ? null : createWriteStream(out);
      const lines = new LinesOut(file ?? process.stdout);
      await forEachEventLine(context, (line) => lines.line(line));
      await lines.flush();
      if (file !== null) await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error == null ? resolve() : reject(error))));
      return 0;
    }
    const view = await loadView(context);
    const sessions = view.state.sessions.values();
    switch (format) {
      case 'sessions':
        await emit(renderSessionsFile(view.state, view.cursor), out);
        return 0;
      case 'mermaid':
        await emit(lineageMermaid(sessions), out);
        return 0;
      case 'dot':
        await emit(lineageDot(sessions), out);
        return 0;
      default:
        throw new UsageError(`--format must be sessions, mermaid, dot, ndjson or otlp, got "${format}"`);
    }
  },
};

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

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) process.stdout.write(text);
  else await writeFile(out, text);
}
