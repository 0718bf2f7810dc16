import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Where the Claude Code CLI is: the native binary of the installed `@anthropic-ai/claude-code`
 * platform package when there is one (its postinstall step, which npm may skip, is not needed),
 * else plain `claude` from PATH.
 */
export function resolveClaudeCommand(): string {
  const arch = process.arch;
  const candidates = [
    `@anthropic-ai/claude-code-${process.platform}-${arch}/claude`,
    `@anthropic-ai/claude-code-${process.platform}-${arch}-musl/claude`,
  ];
  for (const candidate of candidates) {
    try {
      const path = join(dirname(require.resolve(`${candidate.split('/').slice(0, 2).join('/')}/package.json`)), 'claude');
      if (existsSync(path)) return path;
    } catch {
      // not installed for this platform
    }
  }
  return 'claude';
}
