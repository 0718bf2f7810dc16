import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { pipelineMachine } from '../../../machines/pipeline.machine.js';
import { sessionMachine } from '../../../machines/session.machine.js';
import { machineMermaid } from '../../report/machine-definition.js';
import { machineConfigOf, machineSourceOf } from '../../report/machine-export.js';
import { UsageError, requirePositional, stringOption, type Command } from '../command.js';
import { print, printJson } from '../format.js';

/** Every machine of machines/, by id. */
export const MACHINES: readonly AnyStateMachine[] = [sessionMachine, pipelineMachine];

/**
 * `machines export`: each machine's config as JSON (what `createMachine` loads), its TypeScript
 * source (what the Stately editor imports), and a Mermaid state diagram.
 */
export const machinesCommand: Command = {
  name: 'machines',
  summary: 'machines export [--out DIR]: every state machine as its config (JSON that createMachine loads), its TypeScript source (for the Stately editor) and a Mermaid diagram',
  usage: 'machines export [--out DIR]',
  options: { out: { type: 'string' } },
  async run(context) {
    if (requirePositional(context, 0, 'subcommand (export)') !== 'export') throw new UsageError('the only subcommand is "export"');
    const out = stringOption(context, 'out');
    const exported = await Promise.all(MACHINES.map(async (m) => ({ id: m.id, config: machineConfigOf(m), source: await machineSourceOf(m.id), mermaid: machineMermaid(m) })));
    if (out === undefined) {
      if (context.json) printJson(exported);
      else for (const m of exported) print(`%% ${m.id}\n${m.mermaid}`);
      return 0;
    }
    await mkdir(out, { recursive: true });
    for (const m of exported) {
      await writeFile(join(out, `${m.id}.machine.json`), `${JSON.stringify(m.config, null, 2)}\n`);
      await writeFile(join(out, `${m.id}.machine.ts`), m.source);
      await writeFile(join(out, `${m.id}.machine.mmd`), m.mermaid);
    }
    print(`wrote ${exported.map((m) => `${m.id}.machine.json, ${m.id}.machine.ts, ${m.id}.machine.mmd`).join(', ')} to ${out}`);
    return 0;
  },
};
