import type { Command } from '../command.js';
import { atCommand } from './at.js';
import { auditCommand } from './audit.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { lineageCommand } from './lineage.js';
import { listCommand } from './list.js';
import { machinesCommand } from './machines.js';
import { replayCommand } from './replay.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { showCommand } from './show.js';
import { statsCommand } from './stats.js';
import { copyCommand, migrateCommand } from './store-commands.js';
import { transcriptCommand } from './transcript.js';
import { searchCommand } from './search.js';
import { pipelineCommand } from './pipeline.js';
import { limitCommand } from './limit.js';
import { watchCommand } from './watch.js';
import { completeCommand, failCommand, handoffCommand, retryCommand, spawnCommand, stopCommand } from './write-commands.js';

/** Every CLI command, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [
  listCommand,
  showCommand,
  transcriptCommand,
  searchCommand,
  statsCommand,
  lineageCommand,
  spawnCommand,
  handoffCommand,
  completeCommand,
  failCommand,
  retryCommand,
  stopCommand,
  pipelineCommand,
  limitCommand,
  replayCommand,
  auditCommand,
  atCommand,
  watchCommand,
  exportCommand,
  reportCommand,
  serveCommand,
  machinesCommand,
  copyCommand,
  migrateCommand,
  importCommand,
];
