/**
 * The URL of the module `name` (e.g. `'./decode-worker.js'`) beside the caller at `callerUrl`
 * (its `import.meta.url`), as a worker thread can load it. Under the test runner modules are
 * TypeScript source, which a worker thread cannot load: it takes the build beside them (the
 * tests' setup keeps it fresh).
 */
export function workerModule(name: string, callerUrl: string): URL {
  const here = new URL(name, callerUrl);
  return callerUrl.endsWith('.ts') ? new URL(here.href.replace('/src/', '/dist/src/')) : here;
}
