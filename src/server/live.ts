import type { ServerResponse } from 'node:http';
import type { EventStore, StoreCursor } from '../store/event-store.js';

/** How often an idle stream is told the server is still there (proxies close silent ones). */
const HEARTBEAT_MS = 20_000;

/**
 * Follows the store (file watching on files, LISTEN/NOTIFY on PostgreSQL: the store's own
 * watch) and tells every open page, as server-sent events, the seq the store has reached:
 * `event: append` with the seq as data. Reads only what was appended since it last looked.
 */
export class LiveFeed {
  private readonly pages = new Set<ServerResponse>();
  private watcher: { stop: () => void } | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private seq: number;
  private failed = false;

  constructor(
    private readonly store: EventStore,
    private cursor: StoreCursor,
  ) {
    this.seq = cursor.seq;
  }

  /** Starts following the store. */
  start(): void {
    this.watcher = this.store.watch(() => this.readNew());
    this.heartbeat = setInterval(() => this.send(': still here\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The last seq the feed has seen. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Answers one page's `GET /live` and keeps it until the page goes. */
  add(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`retry: 2000\nevent: append\ndata: ${this.seq}\n\n`);
    this.pages.add(response);
    response.on('close', () => this.pages.delete(response));
  }

  /** Tells every open page to fetch itself again although the store did not move (the overview's charts were counted anew). */
  refresh(): void {
    this.send('event: refresh\ndata: \n\n');
  }

  /** Stops following and ends every open stream. */
  stop(): void {
    this.watcher?.stop();
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    for (const page of this.pages) page.end();
    this.pages.clear();
  }

  private async readNew(): Promise<void> {
    try {
      const read = await this.store.readRecords(this.cursor);
      let last = this.seq;
      for await (const batch of read.records) for (const { event } of batch) last = event.seq;
      this.cursor = read.end().cursor;
      this.failed = false;
      if (last > this.seq) {
        this.seq = last;
        this.send(`event: append\ndata: ${last}\n\n`);
      }
    } catch (error) {
      // A damaged or unreachable store: the pages say so once, and the feed tries again at the next change.
      if (!this.failed) this.send(`event: problem\ndata: ${JSON.stringify(String((error as Error).message))}\n\n`);
      this.failed = true;
    }
  }

  private send(text: string): void {
    for (const page of this.pages) page.write(text);
  }
}
