import { esc } from '../report/html.js';
import { headerSearch } from './search-view.js';

/** Which view a page is, for the navigation. */
export type View = 'overview' | 'pipelines' | 'sessions' | 'pipeline' | 'search';

/** One page of the dashboard. */
export interface PageParts {
  title: string;
  view: View;
  /** Where the store stands (`data-seq`): the page's script reloads `#main` when the store moves past it. */
  lastSeq: number;
  location: string;
  /** Above the live part (a filter form: kept as it is while the page follows the store). */
  controls?: string;
  /** The live part, answered again as the store moves. */
  main: string;
}

/**
 * The page around every view: no inline script or style (the Content-Security-Policy forbids
 * them), one stylesheet and one script of the server's own, every text escaped.
 */
export function layout(page: PageParts): string {
  const link = (view: View, href: string, label: string) => `<a href="${href}"${page.view === view ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)} · miyabi sessions</title>
<link rel="stylesheet" href="/assets/dashboard.css"><script src="/assets/dashboard.js" defer></script></head>
<body>
<header><strong>miyabi sessions</strong> <nav>${link('overview', '/', 'Overview')} ${link('pipelines', '/pipelines', 'Pipelines')} ${link('sessions', '/sessions', 'Sessions')}</nav>
${page.view === 'search' ? '' : headerSearch()} <span class="store" title="the store">${esc(page.location)}</span> <span id="live" class="live" aria-live="polite">seq ${page.lastSeq}</span></header>
<h1>${esc(page.title)}</h1>
${page.controls ?? ''}
<main id="main" data-seq="${page.lastSeq}">
${page.main}
</main>
</body></html>
`;
}

/** A page that says what went wrong (a bad filter, an unknown session). */
export function problemPage(title: string, why: string, location: string): string {
  return layout({ title, view: 'overview', lastSeq: 0, location, main: `<p class="problem">${esc(why)}</p>` });
}
