/**
 * The consoles' pages: one self-contained HTML file each (no request but to its own `/api`), polling the state
 * every second. Text from the game goes in through `textContent`, never as HTML.
 */

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
header{background:#1b1f24;color:#fff;padding:10px 16px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:16px;margin:0} #clock{font:600 22px ui-monospace,monospace}
main{display:grid;grid-template-columns:1fr 1fr;gap:12px;padding:12px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 12px}
h2{font-size:14px;margin:0 0 8px} ol{margin:0;padding-left:20px} li.refused{color:#a40e26}
.num{font:600 18px ui-monospace,monospace;margin-right:18px} label{display:block;margin:6px 0 2px}
input,select{font:inherit;padding:3px 6px} button{font:inherit;padding:3px 10px;margin:2px}
.hidden{background:#fff8c5} #status{color:#57606a;margin-left:auto}`;

const COMMON_SCRIPT = `
const token = new URLSearchParams(location.search).get('token') || '';
const $ = (id) => document.getElementById(id);
const clock = (ms) => { const s = Math.max(0, Math.floor(ms / 1000)); return String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0'); };
const fmt = (v, unit) => v === null || v === undefined ? '–' : (unit === '%' ? (v * 100).toFixed(1) + ' %' : unit === 'ms' ? Math.round(v * 1000) + ' ms' : v.toFixed(1) + ' ' + unit);
function list(id, items, text) {
  const ol = $(id); ol.replaceChildren();
  for (const it of items) { const li = document.createElement('li'); li.textContent = text(it); if (it.ok === false) li.className = 'refused'; ol.append(li); }
}
async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chaoslab-token': token }, body: JSON.stringify(body) });
  const out = await res.json();
  $('status').textContent = (out.ok ? 'done: ' : 'refused: ') + (out.detail || '');
  await refresh();
  return out;
}
let state;
async function refresh() {
  try {
    const res = await fetch('/api/state', { headers: { 'x-chaoslab-token': token } });
    state = await res.json();
    render(state);
  } catch (e) { $('status').textContent = 'the game server does not answer (the game is over?)'; }
}
setInterval(refresh, 1000); refresh();
`;

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'">
<style>${STYLE}</style></head>
<body>${body}
<script>${COMMON_SCRIPT}${script}</script></body></html>
`;
}

export function participantsPage(): string {
  return page(
    'chaoslab game day: participants',
    `<header><h1>Game day · <span id="team"></span></h1><span id="clock">00:00</span><span id="over"></span><span id="status"></span></header>
<main>
<section><h2>What the clients see (your Prometheus: <a id="prom"></a>)</h2>
<span class="num" id="rate">–</span><span class="num" id="errors">–</span><span class="num" id="p99">–</span>
<p id="cluster"></p></section>
<section><h2>Act</h2>
<label for="declare-text">Declare an incident: what do you see?</label><input id="declare-text" size="40"><button id="declare">declare</button>
<label for="hypothesis-text">Hypothesis</label><input id="hypothesis-text" size="40"><button id="hypothesis">write down</button>
<label for="mitigation">Mitigation (a config push)</label><select id="mitigation"></select><button id="mitigate">mitigate</button>
<label for="set-text">Set a live parameter</label><input id="set-text" size="32" placeholder="node.param=value"><button id="set">set</button>
<label for="node">Restart a node</label><select id="node"></select><button id="restart">restart</button>
<p><button id="hint">ask for a hint (costs points)</button> <span id="hints-left"></span></p></section>
<section><h2>Hints</h2><ol id="hints"></ol></section>
<section><h2>Your timeline</h2><ol id="actions"></ol></section>
</main>`,
    `
let filled = false;
function render(s) {
  $('team').textContent = s.team; $('clock').textContent = clock(s.elapsedMs) + ' / ' + clock(s.gameMs);
  $('over').textContent = s.over ? 'the game is over' : '';
  if (s.prometheus) { $('prom').textContent = s.prometheus; $('prom').href = s.prometheus; }
  $('rate').textContent = fmt(s.live.requestRate, 'req/s'); $('errors').textContent = 'errors ' + fmt(s.live.errorRatio, '%'); $('p99').textContent = 'p99 ' + fmt(s.live.p99Seconds, 'ms');
  $('cluster').textContent = s.cluster.name + ': ' + s.cluster.description + ' Nodes: ' + s.cluster.nodes.join(', ');
  $('hints-left').textContent = s.hintsLeft + ' left';
  if (!filled) {
    filled = true;
    for (const m of s.mitigations) { const o = document.createElement('option'); o.value = m.name; o.textContent = m.name + ': ' + m.description; $('mitigation').append(o); }
    for (const n of s.cluster.nodes) { const o = document.createElement('option'); o.value = n; o.textContent = n; $('node').append(o); }
  }
  list('hints', s.hints, (h) => clock(h.atMs) + '  ' + h.text);
  list('actions', s.actions, (a) => clock(a.atMs) + '  ' + a.kind + (a.text ? ': ' + a.text : '') + (a.ok ? '' : '  (refused: ' + a.detail + ')'));
}
$('declare').onclick = () => post('/api/action', { kind: 'declare', text: $('declare-text').value });
$('hypothesis').onclick = () => post('/api/action', { kind: 'hypothesis', text: $('hypothesis-text').value });
$('mitigate').onclick = () => post('/api/action', { kind: 'mitigate', name: $('mitigation').value });
$('set').onclick = () => post('/api/action', { kind: 'set', assignment: $('set-text').value });
$('restart').onclick = () => { if (confirm('restart ' + $('node').value + '?')) post('/api/action', { kind: 'restart', node: $('node').value }); };
$('hint').onclick = () => post('/api/action', { kind: 'hint' });
`,
  );
}

export function facilitatorPage(): string {
  return page(
    'chaoslab game day: facilitator',
    `<header><h1>Game day · facilitator · <span id="team"></span></h1><span id="clock">00:00</span><span id="over"></span><span id="status"></span></header>
<main>
<section class="hidden"><h2>Hidden timeline (never show this screen to the team)</h2>
<p id="scenario"></p><p id="deal"></p><p id="fault-state"></p><ol id="faults"></ol>
<p><button id="hold">hold / release</button><button id="advance">fault now</button>
<select id="curveball"></select><button id="curve">curveball</button></p></section>
<section><h2>Clients (participants' Prometheus)</h2>
<span class="num" id="rate">–</span><span class="num" id="errors">–</span><span class="num" id="p99">–</span>
<p><button id="hint">release the next hint</button> <span id="hints-left"></span></p>
<p><button id="end">end the game (score it)</button><button id="abort">abort</button></p></section>
<section><h2>Hints</h2><ol id="hints"></ol></section>
<section><h2>Journal</h2><ol id="actions"></ol></section>
</main>`,
    `
let filled = false;
function render(s) {
  $('team').textContent = s.team; $('clock').textContent = clock(s.elapsedMs) + ' / ' + clock(s.gameMs);
  $('over').textContent = s.over ? 'the game is over' : '';
  $('scenario').textContent = s.scenario + ' (seed ' + s.seed + '): ' + s.title;
  $('deal').textContent = 'dealt: ' + s.deal.description + ' at ' + clock(s.deal.dealtAtMs) + (s.deal.held ? ' (held)' : '');
  $('fault-state').textContent = s.deal.onSinceMs === null ? 'the fault is not on yet' : 'the fault is on since ' + clock(s.deal.onSinceMs);
  list('faults', s.faults, (f) => f.step + ': ' + f.description + (f.appliedMs !== null ? ' on at ' + clock(f.appliedMs) : '') + (f.healedMs !== null ? ', healed at ' + clock(f.healedMs) : ''));
  $('rate').textContent = fmt(s.live.requestRate, 'req/s'); $('errors').textContent = 'errors ' + fmt(s.live.errorRatio, '%'); $('p99').textContent = 'p99 ' + fmt(s.live.p99Seconds, 'ms');
  $('hints-left').textContent = s.hintsLeft + ' left';
  if (!filled) {
    filled = true;
    for (const c of s.curveballs) { const o = document.createElement('option'); o.value = c.step; o.textContent = c.step + ': ' + c.description; $('curveball').append(o); }
    $('curve').disabled = s.curveballs.length === 0;
  }
  list('hints', s.hintsAll.map((text, i) => ({ text, ok: i < s.hintsAll.length - s.hintsLeft })), (h) => (h.ok ? 'released: ' : 'not yet: ') + h.text);
  list('actions', s.actions, (a) => clock(a.atMs) + '  ' + a.by + ' ' + a.kind + (a.text ? ': ' + a.text : '') + (a.ok ? '' : '  (refused: ' + a.detail + ')'));
}
$('hold').onclick = () => post('/api/control', { op: 'hold' });
$('advance').onclick = () => post('/api/control', { op: 'advance' });
$('curve').onclick = () => post('/api/control', { op: 'curveball', step: $('curveball').value });
$('hint').onclick = () => post('/api/control', { op: 'hint' });
$('end').onclick = () => post('/api/control', { op: 'end' });
$('abort').onclick = () => { if (confirm('abort the game?')) post('/api/control', { op: 'abort' }); };
`,
  );
}
