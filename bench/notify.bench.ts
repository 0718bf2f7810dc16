import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClaudeRunner, SessionManager, rejectPipeline, runPipeline } from '../src/index.js';
import { measurePair, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const RESULT = '{"type":"result","is_error":false,"result":"ok","num_turns":1}\n';

/**
 * How long a notification takes from its event to the receiver's answer, with the default
 * options: a pipeline of two steps whose second needs approval, its webhook on a local receiver;
 * measured from the `PipelineWaiting` event's timestamp (the log's) to the moment the receiver
 * answers. The baseline is the fastest bare way to tell the same receiver the same thing: one
 * `fetch` POST of a body of the same size, from just before it is sent to the answer. Run
 * alternately, `runs` times each.
 */
export async function notifyBenches(runs: number): Promise<Row[]> {
  const { dir, done } = await scratch('notify');
  let answeredAt: (() => void) | null = null;
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      res.writeHead(200).end();
      answeredAt?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const answered = () => new Promise<number>((resolve) => (answeredAt = () => resolve(Date.now())));
  const runner = new ClaudeRunner({ command: 'printf', args: () => [RESULT] });
  const manager = await SessionManager.open(dir, { runner });
  let body = '';
  try {
    const steps = [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const }, { agentName: 'DeployAgent', phase: 'CICD' as const, approval: true }];
    const { ours, baseline } = await measurePair(
      runs,
      1,
      async () => {
        let root = '';
        const got = answered();
        const run = runPipeline(manager, { purpose: 'bench', worktreePath: dir, steps, webhooks: [url], onRoot: (id) => (root = id) });
        const at = await got;
        const stream = await manager.pipelineStream(root);
        body = JSON.stringify({ kind: 'pipeline.waiting', detail: stream.waits[0]!.detail, pad: 'x'.repeat(600) });
        await rejectPipeline(manager, root, { reason: 'bench' });
        await run;
        return at - Date.parse(stream.waits[0]!.since);
      },
      async () => {
        const got = answered();
        const start = Date.now();
        await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.body?.cancel());
        return (await got) - start;
      },
    );
    return [{ name: 'notification delay: a pipeline waits, its webhook answers', unit: 'ms', ours, baseline, baselineName: 'one bare fetch POST to the same receiver', ratio: baseline.median / Math.max(ours.median, 1), note: 'from the PipelineWaiting event to the receiver\'s answer (ms clock)' }];
  } finally {
    await manager.close();
    server.close();
    await done();
  }
}
