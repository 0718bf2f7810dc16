import type { Session } from '../../domain/session.js';
import { parseSessionId } from '../../manager/decide.js';
import { lineageOf, lineageTree, type LineageNode } from '../../projections/lineage.js';
import { withSessionReads } from '../open-store.js';
import { requirePositional, type Command } from '../command.js';
import { duration, print, printJson, sessionDuration } from '../format.js';

/** Draws a pipeline tree, marking `focus`; each hop shows status, phase, start offset and duration. */
export function drawTree(root: LineageNode, focus: string): string[] {
  const start = Date.parse(root.session.createdAt);
  const lines: string[] = [];
  const walk = (node: LineageNode, prefix: string, last: boolean, depth: number) => {
    const s: Session = node.session;
    const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
    const offset = Date.parse(s.createdAt) - start;
    const mark = s.id === focus ? '  ◀' : '';
    lines.push(`${prefix}${branch}${s.agentName} [${s.status}] ${s.context.currentPhase} +${duration(offset)} for ${duration(sessionDuration(s))} ${s.id}${mark}`);
    const childPrefix = depth === 0 ? '' : prefix + (last ? '   ' : '│  ');
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, depth + 1));
  };
  walk(root, '', true, 0);
  return lines;
}

/** `lineage <id>`: the session's pipeline from its root, drawn as a tree. */
export const lineageCommand: Command = {
  name: 'lineage',
  summary: 'the pipeline of a session, root to leaf, drawn as a tree',
  usage: 'lineage <id>',
  example: 'CodeGenAgent [HandedOff] CodeGeneration +0 ms for 963 ms 6f3d…\n└─ ReviewAgent [Completed] Review +963 ms for 1.0 s 6e50…  ◀',
  async run(context) {
    const id = parseSessionId(requirePositional(context, 0, 'session id'));
    // Only the pipeline's own sessions are read: its root found, then its tree.
    const sessions = await withSessionReads(context, async (reads) => {
      const root = await reads.rootOf(id);
      return root === undefined ? new Map<string, Session>() : reads.pipeline(root);
    });
    const chain = lineageOf(sessions, id);
    if (context.json) printJson({ chain, tree: lineageTree(sessions, id) });
    else for (const line of drawTree(lineageTree(sessions, id), id)) print(line);
    return 0;
  },
};
