/*
 * The dashboard's only assets, shipped in the package (no CDN, no font, nothing from the
 * network): one stylesheet and one script, served from /assets/ under the page's
 * Content-Security-Policy, which allows no inline script or style.
 */

/** The stylesheet. */
export const DASHBOARD_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 24px 24px;color:#1f2328}
header{display:flex;gap:16px;align-items:baseline;padding:10px 0;border-bottom:1px solid #d0d7de}
header nav a{margin-right:10px}header nav a[aria-current=page]{font-weight:600;text-decoration:none;color:#1f2328}
.store{color:#656d76;font-size:12px;overflow-wrap:anywhere}.live{margin-left:auto;color:#1a7f37;font-size:12px}.live.stale{color:#9a6700}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
a{color:#0969da}a:focus,button:focus,input:focus,select:focus{outline:2px solid #0969da;outline-offset:1px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;min-width:120px}
.card .count{display:block;font-size:22px;font-weight:600}.card.active{border-color:#1f6feb}.card.failed{border-color:#cf222e}.card.completed{border-color:#1a7f37}
.header-search input{font:inherit;padding:2px 6px}
.hits{padding-left:1.4em}.hit blockquote{margin:4px 0 12px;padding:6px 10px;border-left:3px solid #d0d7de;background:#f6f8fa;white-space:pre-wrap;overflow-wrap:anywhere}.hit mark{background:#fff8c5;font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;background:#f6f8fa;padding:10px;border-radius:6px}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}svg text.muted,.muted{fill:#656d76;color:#656d76}svg text.event{fill:#57606a;font-size:11px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eaeef2;text-align:right}th:first-child{text-align:left}
.scroll{overflow-x:auto}table.sessions td,table.sessions th{text-align:left;vertical-align:top}
table.slots td,table.slots th{text-align:left;padding:2px 10px 2px 0}
table.sessions td.purpose,table.sessions td.result,table.sessions td.error{max-width:300px;overflow-wrap:anywhere}
tr:target{background:#fff8c5}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;max-height:480px;overflow:auto}
.problem{background:#ffebe9;padding:8px 12px;border-radius:6px}
svg.chart text{font:11px system-ui,sans-serif;fill:#1f2328}svg.chart text.muted{fill:#656d76}.charts{display:flex;flex-wrap:wrap;gap:24px}
.step{display:inline-block;padding:1px 8px;border-radius:10px;border:1px solid;text-decoration:none;color:#1f2328;white-space:nowrap}
.step.Active{background:#ddf4ff;border-color:#1f6feb}.step.HandedOff{background:#fbefff;border-color:#8957e5}
.step.Completed{background:#dafbe1;border-color:#1a7f37}.step.Failed{background:#ffebe9;border-color:#cf222e}
svg.machine g.current text{font-weight:700}
.notice{background:#ddf4ff;padding:8px 12px;border-radius:6px}.pending{color:#9a6700}
ul.steer li{margin:6px 0}form.action{display:inline-flex;gap:6px;margin-left:8px}
form.action button{border:1px solid #cf222e;background:#fff;color:#cf222e;border-radius:6px;padding:2px 10px;cursor:pointer}
form.action button[data-action=retry],form.action button[data-action=resume],form.action button[data-action=approve]{border-color:#1f6feb;color:#0969da}
form.action button:disabled{opacity:.5;cursor:default}
`;

/**
 * The script: follows the store through server-sent events (/live) and, when it moves past what
 * the page shows, fetches the page again and puts its new #main in place (the filters and the
 * scroll position stay). It also asks before a button acts, and lets it act once. Without it,
 * every page still works: it only stops following and asking.
 */
export const DASHBOARD_JS = `
(() => {
  // A button that acts asks first, and acts once: a second click (or a double click) sends nothing.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== 'post') return;
    if (form.dataset.sent === 'true' || (form.dataset.confirm && !window.confirm(form.dataset.confirm))) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = 'true';
    setTimeout(() => { for (const button of form.querySelectorAll('button')) button.disabled = true; }, 0);
  });
  // A running agent's log: its end, read again every 2 s, shown as text.
  const followLogs = () => {
    for (const pre of document.querySelectorAll('pre[data-log]')) {
      if (pre.dataset.following === 'true') continue;
      pre.dataset.following = 'true';
      const read = async () => {
        if (!pre.isConnected) return;
        try {
          const response = await fetch(pre.dataset.log, { credentials: 'same-origin' });
          if (response.ok) {
            const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            pre.textContent = (await response.text()) || '(nothing written yet)';
            if (atEnd) pre.scrollTop = pre.scrollHeight;
          }
        } catch {}
        setTimeout(read, 2000);
      };
      void read();
    }
  };
  followLogs();
  new MutationObserver(followLogs).observe(document.body, { childList: true, subtree: true });
  const main = document.getElementById('main');
  const live = document.getElementById('live');
  if (!main || !live || !window.EventSource) return;
  let shown = Number(main.dataset.seq);
  let wanted = shown;
  let busy = false;
  let forced = false;
  const refresh = async () => {
    if (busy || (wanted <= shown && !forced)) return;
    forced = false;
    busy = true;
    const before = shown;
    try {
      const response = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!response.ok) throw new Error(String(response.status));
      const next = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('main');
      if (next) {
        main.replaceChildren(...next.childNodes);
        shown = Number(next.dataset.seq);
        main.dataset.seq = String(shown);
        live.textContent = 'seq ' + shown;
        live.classList.remove('stale');
      }
    } catch {
      live.classList.add('stale');
    } finally {
      busy = false;
      // Moved, but not yet as far as the store: once more. Not moved: wait for the next event.
      if (wanted > shown && shown > before) setTimeout(refresh, 200);
    }
  };
  const source = new EventSource('/live');
  source.addEventListener('append', (event) => {
    wanted = Math.max(wanted, Number(event.data));
    void refresh();
  });
  source.addEventListener('refresh', () => {
    forced = true;
    void refresh();
  });
  source.addEventListener('problem', (event) => {
    live.classList.add('stale');
    live.title = 'the store could not be read: ' + JSON.parse(event.data);
  });
  source.addEventListener('error', () => {
    live.classList.add('stale');
    live.dataset.following = 'false';
  });
  source.addEventListener('open', () => {
    live.classList.remove('stale');
    live.dataset.following = 'true';
  });
})();
`;
