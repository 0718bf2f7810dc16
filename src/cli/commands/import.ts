import { importOriginalStore } from '../../import/import-original-store.js';
import { stringOption, type Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson } from '../format.js';
import { contextStore } from '../open-store.js';

/** `import`: brings the original (Rust) session manager's sessions.json into the store. */
export const importCommand: Command = {
  name: 'import',
  summary: "import the original session manager's sessions.json (kept byte for byte as sessions.original.json); all or nothing",
  usage: 'import [--from FILE] [--dir D | --store postgres://…]',
  options: { from: { type: 'string' } },
  example: 'kept .ai/sessions/sessions.json as .ai/sessions/sessions.original.json\nimported 2 sessions (1 Active, 1 HandedOff) as 3 events into .ai/sessions',
  async run(context) {
    const store = contextStore(context);
    const from = stringOption(context, 'from');
    const report = await importOriginalStore({ dir: context.dir, ...(from === undefined ? {} : { from }), ...(store === undefined ? {} : { store }) });
    if (context.json) {
      printJson(report);
      return EXIT.OK;
    }
    const statuses = Object.entries(report.byStatus).filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`).join(', ');
    print(`kept ${report.from} as ${report.kept}`);
    print(`${report.resumed ? 'finished importing' : 'imported'} ${report.sessions} sessions${statuses === '' ? '' : ` (${statuses})`} as ${report.events} events into ${store?.location ?? context.dir}`);
    return EXIT.OK;
  },
};
