import { auditLog, auditStore } from '../../audit/audit-log.js';
import { contextStore } from '../open-store.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson, table } from '../format.js';
import { progressReporter } from '../progress.js';

/** `audit`: verifies the log; exits 1 when anything is found. Changes nothing. */
export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify the log: checksums, schema, seq, ids, transitions, links, torn tail (exit 1 on findings)',
  usage: 'audit',
  example: 'events.ndjson: 3 lines, 3 events, 2 sessions: 1 finding\nLINE  BYTE  KIND        SESSION                               FINDING\n3     812   transition  6f3d9a21-…  SessionCompleted is not allowed: session … is HandedOff',
  async run(context) {
    const store = contextStore(context);
    const progress = progressReporter('auditing', store === undefined ? 'bytes' : 'events');
    const report = store === undefined ? await auditLog(context.dir, progress.report) : await auditStore(store, progress.report).finally(() => store.close());
    progress.done();
    if (context.json) printJson(report);
    else {
      const n = report.findings.length;
      print(`${report.file}: ${report.lines} lines, ${report.events} events, ${report.sessions} sessions${report.imported === 0 ? '' : ` (${report.imported} imported from the original, not observed)`}: ${n === 0 ? 'no findings' : `${n} finding${n === 1 ? '' : 's'}`}`);
      if (n > 0) print(table(['LINE', 'BYTE', 'KIND', 'SESSION', 'FINDING'], report.findings.map((f) => [String(f.line), String(f.offset), f.kind, f.sessionId ?? '—', f.message])));
    }
    return report.findings.length === 0 ? EXIT.OK : EXIT.FINDINGS;
  },
};
