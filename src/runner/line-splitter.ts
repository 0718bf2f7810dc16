/** Calls `onLine` for each complete line of text pushed in chunks; `end()` flushes the last. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds the next chunk. */
  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.onLine(line);
  }

  /** Emits what is left as a last line. */
  end(): void {
    if (this.partial.length > 0) this.onLine(this.partial);
    this.partial = '';
  }
}
