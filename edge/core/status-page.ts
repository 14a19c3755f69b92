/**
 * The operators' page at /ui: every device the key reaches, refreshed every 2 s from GET /devices and
 * GET /devices/{mac}/status. No framework and nothing from a CDN. The key is typed into the page and
 * kept in sessionStorage only (gone with the tab, never in a URL or a log); all text sits in STRINGS
 * and reaches the DOM through textContent.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>coocenter devices</title>
<style>
[hidden] { display: none !important }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 1rem 1.5rem; color: #1d1f23; background: #fafbfc }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap }
h1 { font-size: 20px; margin: 0 1rem 0 0 }
form { display: flex; gap: .5rem } input { font: inherit; padding: 4px 8px; min-width: 22rem }
button { font: inherit; padding: 4px 12px; cursor: pointer }
#note { color: #555; margin: .6rem 0 } #note.error { color: #b00020 }
table { border-collapse: collapse; width: 100%; background: #fff; margin-top: .5rem }
th, td { border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; vertical-align: top }
th { font-size: 12px; text-transform: uppercase; color: #555; background: #f3f4f6 }
td.num { text-align: right; font-variant-numeric: tabular-nums }
.badge { display: inline-block; border-radius: 10px; padding: 1px 10px; font-weight: 600; font-size: 12px }
.online { background: #d1fae5; color: #065f46 } .offline { background: #fee2e2; color: #991b1b }
.warn { color: #b45309 } .bad { color: #b00020 } .muted { color: #777 } code { font-size: 13px }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <form id="login"><input id="key" type="password" autocomplete="off"><button id="use" type="submit"></button></form>
  <button id="forget" type="button" hidden></button>
</header>
<p id="note"></p>
<table id="devices" hidden><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>
<script>
(function () {
  var STRINGS = {
    title: 'coocenter devices',
    keyPlaceholder: 'admin key or tenant key',
    use: 'Show devices',
    forget: 'Forget key',
    askKey: 'Enter the admin key or a tenant key. It is kept in this tab only.',
    badKey: 'This key was refused (401). Check it and enter it again.',
    unreachable: 'Cannot reach the edge: ',
    updated: 'Updated ',
    noDevices: 'No devices yet: register one with PUT /admin/devices/{mac}.',
    online: 'online',
    offline: 'offline',
    never: 'never connected',
    columns: ['Device', 'Tenant', 'State', 'Since', 'Agent', 'Asterisk', 'AMI', 'Waiting on box', 'Waiting on edge', 'Dead letters', 'Delivery'],
    deliveryOk: 'ok',
    noUrl: 'no URL',
    conflict: ' clone conflicts',
    gapOpen: 'AMI gap open since ',
    unknown: '\\u2014'
  };
  var KEY = 'coocenter.ui.key';
  var POLL_MS = 2000;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;

  $('title').textContent = STRINGS.title;
  $('key').placeholder = STRINGS.keyPlaceholder;
  $('use').textContent = STRINGS.use;
  $('forget').textContent = STRINGS.forget;
  STRINGS.columns.forEach(function (c) { var th = document.createElement('th'); th.textContent = c; $('head').appendChild(th); });

  function note(text, isError) { $('note').textContent = text; $('note').className = isError ? 'error' : ''; }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : STRINGS.unknown; }
  function cell(row, text, cls) { var td = document.createElement('td'); td.textContent = text === null || text === undefined ? STRINGS.unknown : String(text); if (cls) td.className = cls; row.appendChild(td); return td; }

  function get(path) {
    return fetch(path, { headers: { Authorization: 'Bearer ' + sessionStorage.getItem(KEY) }, cache: 'no-store' }).then(function (r) {
      if (r.status === 401) throw { unauthorized: true };
      if (!r.ok) return r.json().then(function (b) { throw new Error(b.message || ('HTTP ' + r.status)); });
      return r.json();
    });
  }

  function delivery(s) {
    var d = s.delivery;
    if (!d) return [STRINGS.noUrl, 'muted'];
    if (d.stopped) return [d.stopped, 'bad'];
    if (d.lastError && (!d.lastDeliveredAt || d.lastError.at > d.lastDeliveredAt)) {
      return [(d.lastError.status ? d.lastError.status + ' ' : '') + d.lastError.message, 'warn'];
    }
    return [STRINGS.deliveryOk, ''];
  }

  function render(statuses) {
    var rows = $('rows');
    rows.textContent = '';
    statuses.forEach(function (s) {
      var tr = document.createElement('tr');
      tr.dataset.mac = s.mac;
      var first = cell(tr, s.mac);
      first.style.fontFamily = 'monospace';
      cell(tr, s.tenant);
      var state = cell(tr, '');
      var badge = document.createElement('span');
      badge.className = 'badge ' + (s.online ? 'online' : 'offline');
      badge.textContent = s.online ? STRINGS.online : STRINGS.offline;
      badge.dataset.state = s.online ? 'online' : 'offline';
      state.appendChild(badge);
      if (s.conflicts) { var c = document.createElement('div'); c.className = 'bad'; c.textContent = s.conflicts + STRINGS.conflict; state.appendChild(c); }
      var since = s.online ? s.since : (s.lastDisconnect && s.lastDisconnect.at);
      var sinceCell = cell(tr, since ? when(since) : STRINGS.never);
      if (!s.online && s.lastDisconnect && s.lastDisconnect.reason) { var why = document.createElement('div'); why.className = 'muted'; why.textContent = s.lastDisconnect.reason; sinceCell.appendChild(why); }
      cell(tr, s.agentVersion);
      var a = s.asteriskSupport;
      var ast = cell(tr, s.asteriskVersion, !a || a.support === 'supported' ? '' : a.support === 'unsupported' ? 'bad' : 'warn');
      if (a && a.support !== 'supported') ast.title = a.detail;
      var openGap = (s.gaps || []).filter(function (g) { return g.to === null; })[0];
      // Offline: what the box last reported, greyed.
      var ami = cell(tr, s.ami, !s.online ? 'muted' : s.ami && s.ami !== 'ready' ? 'bad' : '');
      if (openGap) { var g = document.createElement('div'); g.className = 'warn'; g.textContent = STRINGS.gapOpen + new Date(openGap.from).toLocaleString(); ami.appendChild(g); }
      cell(tr, s.eventsWaitingOnBox, 'num');
      cell(tr, s.eventsWaitingOnEdge, 'num');
      cell(tr, s.deadLetters, s.deadLetters ? 'num bad' : 'num');
      var d = delivery(s);
      cell(tr, d[0], d[1]);
      rows.appendChild(tr);
    });
    $('devices').hidden = statuses.length === 0;
    note(statuses.length ? STRINGS.updated + new Date().toLocaleTimeString() : STRINGS.noDevices);
  }

  function refresh() {
    get('devices').then(function (list) {
      return Promise.all(list.map(function (d) { return get('devices/' + encodeURIComponent(d.mac) + '/status'); }));
    }).then(render, function (e) {
      if (e && e.unauthorized) { stop(); sessionStorage.removeItem(KEY); showLogin(); note(STRINGS.badKey, true); return; }
      note(STRINGS.unreachable + (e && e.message ? e.message : e), true);
    });
  }
  function stop() { if (timer !== null) clearInterval(timer); timer = null; }
  function start() {
    $('login').hidden = true;
    $('forget').hidden = false;
    refresh();
    timer = setInterval(refresh, POLL_MS);
  }
  function showLogin() { $('login').hidden = false; $('forget').hidden = true; $('devices').hidden = true; $('key').value = ''; }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var k = $('key').value.trim();
    if (!k) return;
    sessionStorage.setItem(KEY, k);
    start();
  });
  $('forget').addEventListener('click', function () { stop(); sessionStorage.removeItem(KEY); showLogin(); note(STRINGS.askKey); });

  if (sessionStorage.getItem(KEY)) start(); else { showLogin(); note(STRINGS.askKey); }
})();
</script>
</body>
</html>
`;
