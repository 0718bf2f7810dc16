import type { ConversationSearch } from '../domain/conversation-search.js';
import { safeText } from '../domain/visible-text.js';
import type { SearchHit, SearchPage } from '../query/conversation-search.js';
import { esc } from '../report/html.js';

/** Hits a page of the search view shows. */
const SEARCH_PAGE = 20;

/** The search the view's address asks for (`q`, `agent`, `issue`, `since`, `after`); null when it asks for none. */
export function searchOf(params: URLSearchParams): ConversationSearch | null {
  const given = (name: string) => {
    const value = params.get(name)?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const text = given('q');
  if (text === undefined) return null;
  const issue = given('issue');
  // A bad value is refused by the search's own checks, and answered as a bad filter.
  return {
    text,
    agent: given('agent'),
    issue: issue === undefined ? undefined : /^\d+$/.test(issue) ? Number(issue) : (issue as unknown as number),
    since: given('since'),
    limit: SEARCH_PAGE,
    after: given('after'),
  };
}

/** The search form in the header of every page: the words only. */
export function headerSearch(params?: URLSearchParams): string {
  return `<form class="header-search" method="get" action="/search" role="search"><input type="search" name="q" value="${esc(params?.get('q') ?? '')}" placeholder="search conversations" aria-label="search the stored conversations" size="22"></form>`;
}

/** The search view's form: the words and what narrows them, a GET form, so the search is its address. */
export function searchForm(params: URLSearchParams): string {
  const value = (name: string) => esc(params.get(name) ?? '');
  return `<form class="filters" method="get" action="/search" role="search">
<label>words <input name="q" value="${value('q')}" size="28" placeholder="plain text, whole words, any case" autofocus></label>
<label>agent <input name="agent" value="${value('agent')}" size="14"></label>
<label>issue <input name="issue" value="${value('issue')}" size="6" inputmode="numeric"></label>
<label>since <input name="since" value="${value('since')}" size="20" placeholder="2026-11-29T00:00:00Z"></label>
<button type="submit">Search</button>
</form>`;
}

/** The hits of a page (each linked to its conversation on its pipeline's page), what was searched, and the next page's link. */
export function searchMain(page: SearchPage | null, params: URLSearchParams): string {
  if (page === null) return '<p class="muted">Words to look for in what the agents and their prompts said: the stored conversations are searched.</p>';
  const searched = `Searched the ${page.searched} stored conversations of ${page.sessions} sessions. A conversation still running, not stored (turned off) or over the size limit is not searched.`;
  if (page.hits.length === 0) return `<p class="muted">No message holds these words. ${esc(searched)}</p>`;
  let next = '';
  if (page.next !== null) {
    const after = new URLSearchParams(params);
    after.set('after', page.next);
    next = `<p><a id="next" href="/search?${esc(after.toString())}">next page →</a></p>`;
  }
  return `<p class="muted">${page.hits.length} messages${page.next === null ? '' : ', more follow'}, the most recently stored conversation first. ${esc(searched)}</p>
<ol class="hits">${page.hits.map(hitHtml).join('\n')}</ol>
${next}`;
}

function hitHtml(hit: SearchHit): string {
  const text = (value: string) => esc(safeText(value));
  const where = [hit.agentName, hit.issue === null ? null : `#${hit.issue}`, hit.phase, hit.status].filter((part) => part !== null).map((part) => text(String(part))).join(' · ');
  return `<li class="hit"><p><a href="/pipeline/${hit.sessionId}#conversation-${hit.sessionId}"><code>${hit.sessionId}</code></a> ${where} · pipeline <a href="/pipeline/${hit.pipeline}"><code>${hit.pipeline.slice(0, 8)}</code></a></p>
<blockquote><span class="muted">message ${hit.message}, ${text(hit.role)}:</span> ${text(hit.excerpt.before)}<mark>${text(hit.excerpt.match)}</mark>${text(hit.excerpt.after)}</blockquote></li>`;
}
