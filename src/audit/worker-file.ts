/**
 * The URL of one of the audit's worker modules (`name`, e.g. `'schema-worker'`). Under the test
 * runner these modules are TypeScript source, which a worker thread cannot load: it takes the
 * build beside it (the tests' setup keeps it fresh).
 */
export function auditWorkerFile(name: string): URL {
  const here = new URL(`./${name}.js`, import.meta.url);
  return import.meta.url.endsWith('.ts') ? new URL(here.href.replace('/src/audit/', '/dist/src/audit/')) : here;
}
