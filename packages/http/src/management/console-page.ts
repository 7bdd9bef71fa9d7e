/**
 * The console page: its HTML and CSS, kept here as strings so they ship inside the compiled package with no copy
 * step; the script is the browser build of `packages/http/console` (see `console-assets.ts`). Everything the page
 * shows is filled in by that script with `textContent`, never parsed as HTML.
 */

/**
 * Security headers of every console answer: scripts, styles and connections from this origin only, no inline
 * code, no framing, no referrer.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** `GET /`. Relative URLs, so the console also works behind a proxy under a path prefix (with a trailing `/`). */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dromedary console</title>
<link rel="icon" href="console/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="console/console.css">
<script type="module" src="console/main.js"></script>
</head>
<body>
<header class="top">
  <div>
    <h1>Dromedary <span id="context-name"></span></h1>
    <p class="state"><span id="context-state" class="badge">connecting</span> <span id="connection">Connecting to the event stream…</span></p>
  </div>
  <div class="actions" role="group" aria-label="Context actions">
    <button type="button" id="stop-graceful">Stop gracefully…</button>
    <button type="button" id="stop-forced" class="danger">Force stop…</button>
    <button type="button" id="forget-token" class="quiet">Forget token</button>
  </div>
</header>
<main>
  <p id="action-result" role="status" aria-live="polite"></p>
  <section aria-labelledby="routes-title">
    <h2 id="routes-title">Routes</h2>
    <div class="scroll">
      <table id="routes">
        <thead><tr>
          <th scope="col">Route</th><th scope="col">From</th><th scope="col">Status</th>
          <th scope="col" class="num">In flight</th><th scope="col" class="num">Pending</th>
          <th scope="col" class="num">Rate /s</th><th scope="col">Last 60 s</th>
          <th scope="col" class="num">p50</th><th scope="col" class="num">p99</th>
          <th scope="col" class="num">Completed · failed · aborted</th><th scope="col">Actions</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p class="hint" id="routes-hint"></p>
  </section>
  <section aria-labelledby="timeline-title">
    <h2 id="timeline-title">Shutdown timeline</h2>
    <p id="timeline-outcome" class="outcome">Running: no shutdown so far.</p>
    <div id="timeline-chart"></div>
    <ul id="timeline-legend" class="legend" aria-label="Routes in the chart"></ul>
    <ol id="timeline-log" class="log" aria-label="Shutdown events"></ol>
  </section>
  <section aria-labelledby="inflight-title">
    <h2 id="inflight-title">In-flight exchanges</h2>
    <p class="filter"><label for="inflight-route">Route</label> <select id="inflight-route"><option value="">All routes</option></select>
      <span id="inflight-summary"></span></p>
    <div class="scroll">
      <table id="inflight">
        <thead><tr>
          <th scope="col">Exchange</th><th scope="col">From route</th><th scope="col">At route</th>
          <th scope="col">Step</th><th scope="col" class="num">Age</th><th scope="col" class="num">In step</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section aria-labelledby="workers-title">
    <h2 id="workers-title">Worker groups</h2>
    <table id="workers">
      <thead><tr><th scope="col">Group</th><th scope="col" class="num">Busy workers</th><th scope="col" class="num">Queued tasks</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <form method="dialog">
    <h2 id="confirm-title">Confirm</h2>
    <p id="confirm-text"></p>
    <p id="confirm-timeout" hidden><label for="confirm-timeout-ms">Timeout in ms (empty: the strategy's)</label>
      <input id="confirm-timeout-ms" inputmode="numeric" pattern="[0-9]{1,10}" autocomplete="off"></p>
    <p><label for="confirm-token">Admin token</label>
      <input id="confirm-token" type="password" autocomplete="off" spellcheck="false"></p>
    <p class="hint">Kept in this tab's session storage and sent only to this server.</p>
    <p class="buttons"><button type="button" id="confirm-cancel" class="quiet">Cancel</button> <button value="confirm" id="confirm-ok">Confirm</button></p>
  </form>
</dialog>
<noscript><p>The console needs JavaScript (a module script from this server).</p></noscript>
</body>
</html>
`

/** `GET /console/console.css`. Colours keep a contrast of at least 4.5:1 on their backgrounds. */
export const CONSOLE_CSS = `:root {
  color-scheme: light;
  --fg: #1b1b1f; --muted: #4d4d55; --bg: #ffffff; --panel: #f4f5f7; --line: #c9ccd3;
  --accent: #0b57d0; --danger: #b3261e; --ok: #0a6b2e; --warn: #7a4b00; --info: #0b4f8a;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg);
}
body { margin: 0; }
.top { display: flex; flex-wrap: wrap; gap: 1rem; justify-content: space-between; align-items: center;
  padding: .75rem 1.25rem; background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
main { padding: 0 1.25rem 2rem; }
.state { margin: .25rem 0 0; color: var(--muted); }
.actions, .buttons { display: flex; gap: .5rem; flex-wrap: wrap; }
button { font: inherit; padding: .3rem .7rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { background: var(--bg); color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
button:disabled, button[aria-disabled="true"] { background: #e3e4e8; color: #4d4d55; border-color: var(--line); cursor: not-allowed; }
button:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
td button { padding: .1rem .45rem; font-size: .85rem; margin-right: .25rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { background: var(--panel); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; border: 1px solid currentColor;
  font-size: .85rem; color: var(--info); background: #e7f0fb; }
.badge.started, .badge.running, .badge.connected { color: var(--ok); background: #e6f4ea; }
.badge.suspended, .badge.pending, .badge.stopping { color: var(--warn); background: #fff4e0; }
.badge.stopped, .badge.shutdown { color: #3d3d44; background: #ececf0; }
.badge.forced, .badge.disconnected { color: var(--danger); background: #fdeceb; }
.hint { color: var(--muted); font-size: .9rem; }
#action-result { min-height: 1.45em; margin: .75rem 0 0; }
#action-result.error { color: var(--danger); }
.outcome { font-weight: 600; }
.outcome.graceful { color: var(--ok); }
.outcome.forced { color: var(--danger); }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .25rem 0; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em; vertical-align: -.05em; border-radius: 2px; }
.log { padding-left: 1.5rem; margin: .5rem 0; }
.log li { margin: .1rem 0; }
.chart { display: block; width: 100%; max-width: 56rem; height: auto; background: var(--panel); border: 1px solid var(--line); }
.chart text { font: 11px system-ui, sans-serif; fill: var(--fg); }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart .marker { stroke-width: 1.5; stroke-dasharray: 4 3; }
.chart .marker.notice { stroke: var(--warn); }
.chart .marker.now { stroke: var(--danger); }
.chart .marker.stopped { stroke: var(--fg); }
.chart .marker.route { stroke: var(--muted); stroke-dasharray: 2 3; }
.chart .total { fill: none; stroke: var(--fg); stroke-width: 2; }
.spark { display: block; }
.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
dialog { border: 1px solid var(--line); border-radius: 6px; max-width: 30rem; }
dialog::backdrop { background: rgba(0, 0, 0, .35); }
dialog input { font: inherit; width: 100%; box-sizing: border-box; padding: .3rem; margin-top: .2rem; }
.filter select { font: inherit; }
@media (prefers-reduced-motion: no-preference) { button { transition: background-color .1s; } }
`

/** `GET /console/icon.svg`: the page icon (a hump), so the browser does not ask for `/favicon.ico`. */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b57d0"/><path d="M4 24 C8 24 9 10 14 10 C18 10 18 18 21 18 C24 18 24 13 27 13 L28 24 Z" fill="#fff"/></svg>
`
