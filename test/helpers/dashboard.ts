import { request } from 'node:http';
import { readFileSessions, type SessionReads } from '../../src/query/session-reads.js';
import { parseTokens } from '../../src/server/access.js';
import { startDashboard, type Dashboard } from '../../src/server/dashboard.js';
import { FileEventStore } from '../../src/store/file/file-event-store.js';
import { FileTranscripts } from '../../src/store/file/file-transcripts.js';

/** What agents may write that a page would run or a reader misread. */
export const HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(2)> <a href="javascript:alert(3)">x</a> \u202eexe.txt';

/** A GET (or other method) with the headers given; resolves with status, headers and body. */
export function fetchFrom(url: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(target, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A dashboard on the file store at `dir`, on a free port of 127.0.0.1 unless told otherwise. */
export function dashboardOn(dir: string, options: { host?: string; tokens?: string[] } = {}): Promise<Dashboard> {
  return startDashboard({
    read: <T>(fn: (reads: SessionReads) => Promise<T>) => readFileSessions(dir, fn),
    store: new FileEventStore(dir),
    transcripts: new FileTranscripts(dir),
    location: dir,
    port: 0,
    ...(options.host === undefined ? {} : { host: options.host }),
    tokens: parseTokens(options.tokens ?? []),
  });
}
