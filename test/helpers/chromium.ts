import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, wherever PATH (or CHROMIUM_PATH) puts it: `.ci/run` installs the package. */
export function chromiumPath(): string {
  const explicit = process.env['CHROMIUM_PATH'];
  if (explicit !== undefined && explicit !== '') return explicit;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error('no chromium on PATH: install Debian\'s chromium (bash .ci/run does), or set CHROMIUM_PATH');
}

/** Headless Chromium as the browser tests run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
