// tracelake web UI: hash-routed pages over the JSON API in /api/tracelake/.
// Every piece of data is put in the page with textContent, never as HTML.
'use strict';

const state = { token: localStorage.getItem('tracelake-token') || '', end: null };

// ---------- helpers ----------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

async function api(path, params) {
  const url = new URL('/api/tracelake/' + path, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
    else if (value !== '' && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
  const response = await fetch(url, { headers });
  if (response.status === 401) {
    document.getElementById('token-bar').hidden = false;
    throw new Error('this server needs a token');
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// The time range every page queries: the chosen lookback ending at the end of
// the data (or now, whichever is later).
async function range() {
  if (state.end === null) {
    const info = await api('range');
    state.end = Math.floor(info.default_end_ns / 1e6);
  }
  return { to: state.end, lookback: document.getElementById('lookback').value };
}

function formatTime(ns) {
  if (ns === null || ns === undefined) return '';
  return new Date(ns / 1e6).toISOString().replace('T', ' ').replace('Z', '');
}

function formatDuration(ns) {
  if (ns === null || ns === undefined) return '';
  if (ns < 1e3) return ns.toFixed(0) + ' ns';
  if (ns < 1e6) return (ns / 1e3).toFixed(1) + ' µs';
  if (ns < 1e9) return (ns / 1e6).toFixed(1) + ' ms';
  return (ns / 1e9).toFixed(2) + ' s';
}

function formatUsd(value) {
  if (value === null || value === undefined) return '';
  return '$' + Number(value).toPrecision(3);
}

// A stable colour per service: FNV-1a of the name, spread over the hue circle
// by the golden angle so that similar names get distant colours.
function serviceColour(name) {
  let hash = 2166136261;
  for (const c of name || '') hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0;
  return `hsl(${Math.round((hash % 1000) * 137.508) % 360}, 60%, 44%)`;
}

function table(columns, rows, onClick) {
  return el('table', {},
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.title)))),
    el('tbody', {}, rows.map((row) => el('tr', {
      class: onClick ? 'clickable ' + (row._class || '') : row._class || '',
      onclick: onClick ? () => onClick(row) : null,
    }, columns.map((c) => el('td', { class: c.class || '' }, c.value(row)))))));
}

function setView(...children) {
  const view = document.getElementById('view');
  view.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return view;
}

function go(hash) { location.hash = hash; }

// ---------- trace search ----------

async function searchPage(query) {
  const r = await range();
  const services = await api('services', r);
  const form = el('form', { class: 'filters', id: 'search-form' },
    el('label', {}, 'Service', el('select', { name: 'service', id: 'search-service' },
      el('option', { value: '' }, 'any'),
      services.map((s) => el('option', { value: s.service, selected: s.service === query.get('service') }, s.service)))),
    el('label', {}, 'Operation', el('input', { name: 'operation', value: query.get('operation') || '' })),
    el('label', {}, 'Min duration', el('input', { name: 'minDuration', placeholder: '100ms', size: 8, value: query.get('minDuration') || '' })),
    el('label', {}, 'Max duration', el('input', { name: 'maxDuration', placeholder: '2s', size: 8, value: query.get('maxDuration') || '' })),
    el('label', {}, 'Attribute', el('input', { name: 'tag', placeholder: 'key:value', value: query.get('tag') || '' })),
    el('label', {}, 'Errors only', el('input', { type: 'checkbox', name: 'errors', checked: query.get('errors') === 'true' })),
    el('label', {}, 'Limit', el('input', { name: 'limit', value: query.get('limit') || '20', size: 4 })),
    el('label', {}, 'Trace id', el('input', { name: 'trace', id: 'trace-id-input', placeholder: 'paste an id', size: 34 })),
    el('button', { type: 'submit', id: 'search-button' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const trace = (data.get('trace') || '').trim();
    if (trace) return go('#/trace/' + encodeURIComponent(trace));
    const params = new URLSearchParams();
    for (const [key, value] of data.entries()) if (value && key !== 'trace') params.set(key, key === 'errors' ? 'true' : value);
    go('#/search?' + params.toString());
  });
  const results = el('div', { id: 'search-results' }, el('p', { class: 'muted' }, 'Searching…'));
  setView(el('h2', {}, 'Traces'), form, results);
  const params = Object.fromEntries(query.entries());
  const traces = await api('traces', { ...r, ...params });
  results.replaceChildren(
    el('p', { class: 'muted' }, `${traces.length} traces`),
    table([
      { title: 'Root', value: (t) => el('span', {}, el('b', {}, t.root_service || '?'), ' ', t.root_name || '') },
      { title: 'Start', value: (t) => formatTime(t.trace_start) },
      { title: 'Duration', value: (t) => formatDuration(t.duration_ns) },
      { title: 'Spans', value: (t) => t.span_count },
      { title: 'Errors', value: (t) => t.error_count ? el('span', { class: 'error-text' }, t.error_count) : '0' },
      { title: 'Services', value: (t) => t.services.length + ': ' + t.services.slice(0, 6).join(', ') + (t.services.length > 6 ? ', …' : '') },
      { title: 'Trace id', class: 'mono', value: (t) => t.trace_id },
    ], traces.map((t) => ({ ...t, _class: 'trace-row' })), (t) => go('#/trace/' + t.trace_id)));
}

// ---------- trace view ----------

function kvTable(entries) {
  return el('table', { class: 'kv' }, el('tbody', {}, entries.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', { class: 'mono' }, v)))));
}

function logLine(log) {
  return el('div', { class: 'log-line' },
    el('span', { class: 'muted' }, formatTime(log.timestamp).slice(11), ' '),
    el('span', { class: 'lvl lvl-' + (log.level || '') }, log.level || '—'),
    log.text || log.message || '',
    log.link === null || log.link === undefined ? el('span', { class: 'muted' }, '  (joined by request id)') : null);
}

function spanDetails(node, invocationsByRequest) {
  const s = node;
  const rows = [
    ['service', s.service], ['operation', s.name], ['kind', s.kind], ['span id', s.span_id],
    ['parent', s.parent_span_id || '—'], ['start', formatTime(s.start_time)], ['duration', formatDuration(s.duration_ns)],
    ['status', (s.status_code || '') + (s.status_message ? ': ' + s.status_message : '')],
    ['request id', s.request_id || '—'], ['cold start', s.cold_start ? 'yes' : 'no'],
    ...(s.synthetic ? [['drawn from', 'its Lambda platform lines and REPORT (the function wrote no span)']] : []),
    ...(s.note ? [['note', s.note]] : []),
    ...Object.entries(s.attributes || {}).map(([k, v]) => ['attr ' + k, v]),
    ...Object.entries(s.resource_attributes || {}).map(([k, v]) => ['resource ' + k, v]),
    ...(s.events || []).map((e) => ['event ' + (e.name || ''), formatTime(e.time) + ' ' + JSON.stringify(e.attributes)]),
    ...(s.links || []).map((l) => ['link', l.trace_id + ' / ' + l.span_id]),
  ];
  const invocation = s.request_id ? invocationsByRequest.get(s.request_id) : null;
  if (invocation) rows.push(['invocation', `${invocation.function} billed ${invocation.billed_duration_ms} ms × ${invocation.memory_size_mb} MB = ${formatUsd(invocation.cost_usd)}`]);
  return el('div', { class: 'details', id: 'span-details' }, el('h3', {}, s.name || s.span_id), kvTable(rows.map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])));
}

async function tracePage(traceId) {
  setView(el('p', { class: 'muted' }, 'Loading trace…'));
  const trace = await api('traces/' + encodeURIComponent(traceId));
  const start = trace.start_time || 0;
  const total = Math.max(trace.duration_ns, 1);
  const invocationsByRequest = new Map(trace.invocations.map((i) => [i.request_id, i]));
  const details = el('div', {});
  const rows = [];
  for (const node of trace.spans) {
    const left = ((node.start_time - start) / total) * 100;
    const width = Math.max((node.duration_ns / total) * 100, 0.2);
    const colour = serviceColour(node.service);
    // Marks on the bar: cold start, timeout, error; a drawn invocation is hatched.
    const status = node.invocation_status || (node.status_code === 'error' ? 'error' : null);
    const marks = [
      node.cold_start ? el('span', { class: 'mark mark-cold', title: 'cold start' }, 'cold') : null,
      status === 'timeout' ? el('span', { class: 'mark mark-timeout', title: 'timed out' }, 'timeout')
        : status === 'error' || status === 'failure' ? el('span', { class: 'mark mark-error', title: node.status_message || 'error' }, 'error') : null,
      node.synthetic ? el('span', { class: 'mark mark-synthetic', title: node.note || 'no span of its own: drawn from its Lambda platform lines' }, 'no span') : null,
    ];
    const row = el('div', { class: 'span-row' + (node.synthetic ? ' synthetic' : ''), 'data-span-id': node.span_id },
      el('div', { class: 'span-name', style: `padding-left:${6 + node.depth * 14}px` },
        el('span', { class: 'svc', style: `background:${colour}` }, node.service || '?'), node.name || '', ...marks),
      el('div', { class: 'span-track' }, el('div', {
        class: 'span-bar' + (node.status_code === 'error' ? ' error' : '') + (node.synthetic ? ' synthetic' : '') + (node.cold_start ? ' cold' : ''),
        style: `left:${left}%;width:${width}%;background-color:${colour}`,
        title: formatDuration(node.duration_ns) + (node.note ? ' — ' + node.note : ''),
      })),
      el('div', { class: 'span-dur' }, formatDuration(node.duration_ns)));
    row.addEventListener('click', () => {
      document.querySelectorAll('.span-row.selected').forEach((r) => r.classList.remove('selected'));
      row.classList.add('selected');
      details.replaceChildren(spanDetails(node, invocationsByRequest));
    });
    rows.push(row);
    if (node.note) rows.push(el('div', { class: 'span-note muted', style: `padding-left:${30 + node.depth * 14}px` }, node.note));
    if (node.logs.length) rows.push(el('div', { class: 'span-logs' }, node.logs.map(logLine)));
  }
  const services = el('div', {}, trace.services.map((s) => el('a', { href: '#/service/' + encodeURIComponent(s), class: 'svc-link' },
    el('span', { class: 'svc', style: `background:${serviceColour(s)};color:#fff;padding:0 5px;border-radius:3px;margin-right:4px` }, s))));
  setView(
    el('h2', {}, 'Trace ', el('span', { class: 'mono', id: 'trace-id' }, trace.trace_id)),
    el('div', { class: 'summary' },
      el('div', {}, 'Start', el('b', {}, formatTime(trace.start_time))),
      el('div', {}, 'Duration', el('b', {}, formatDuration(trace.duration_ns))),
      el('div', {}, 'Spans', el('b', { id: 'trace-span-count' }, trace.span_count)),
      el('div', {}, 'Invocations without spans', el('b', { id: 'trace-synthetic-count' }, trace.synthetic_count)),
      el('div', {}, 'Errors', el('b', { class: trace.error_count ? 'error-text' : '' }, trace.error_count)),
      el('div', {}, 'Services', el('b', {}, trace.services.length)),
      el('div', {}, 'Lambda cost', el('b', { id: 'trace-cost' }, formatUsd(trace.cost_usd)))),
    services,
    el('h3', {}, 'Waterfall'),
    el('div', { class: 'waterfall', id: 'waterfall' }, rows),
    details,
    trace.unattached_logs.length ? el('div', {}, el('h3', {}, 'Logs of the trace outside any span'),
      el('div', { class: 'span-logs' }, trace.unattached_logs.map(logLine))) : null,
    el('h3', {}, 'Invocations'),
    table([
      { title: 'Function', value: (i) => i.function },
      { title: 'Request id', class: 'mono', value: (i) => i.request_id },
      { title: 'Duration', value: (i) => (i.duration_ms ?? '') + ' ms' },
      { title: 'Billed', value: (i) => (i.billed_duration_ms ?? '') + ' ms' },
      { title: 'Memory', value: (i) => `${i.max_memory_used_mb ?? '?'} / ${i.memory_size_mb ?? '?'} MB` },
      { title: 'Cold start', value: (i) => i.cold_start ? `yes (init ${i.init_duration_ms} ms)` : 'no' },
      { title: 'Status', value: (i) => i.status },
      { title: 'Cost', value: (i) => formatUsd(i.cost_usd) },
    ], trace.invocations));
}

// ---------- service map ----------

// The map is drawn from the API's edges; everything here is display: which
// services to show (a focused neighbourhood), how to group them (by name
// prefix or by one of the tags the services API returns, groups collapsed into
// one node), and the layered dagre layout.
if (window.cytoscape && window.cytoscapeDagre && !window.tracelakeDagreRegistered) {
  cytoscape.use(window.cytoscapeDagre);
  window.tracelakeDagreRegistered = true;
}

function servicePrefix(name) {
  const cut = name.search(/[-_.]/);
  return cut > 0 ? name.slice(0, cut) : name;
}

// Services within `hops` of `focus`, following edges downstream, upstream or both.
function neighbourhood(edges, focus, hops, direction) {
  const keep = new Set([focus]);
  let frontier = new Set([focus]);
  for (let hop = 0; hop < hops; hop++) {
    const next = new Set();
    for (const e of edges) {
      if ((direction !== 'up') && frontier.has(e.parent) && !keep.has(e.child)) next.add(e.child);
      if ((direction !== 'down') && frontier.has(e.child) && !keep.has(e.parent)) next.add(e.parent);
    }
    next.forEach((n) => keep.add(n));
    frontier = next;
  }
  return keep;
}

function errorColour(rate) {
  if (!rate) return '#9ca3af';
  const t = Math.min(1, rate * 5); // 20 % errors and more: full red
  return `hsl(${Math.round(45 - 45 * t)}, ${Math.round(60 + 30 * t)}%, ${Math.round(55 - 10 * t)}%)`;
}

async function mapPage(query) {
  const r = await range();
  const [edges, summaries] = await Promise.all([api('map', r), api('services', r)]);
  const services = [...new Set(edges.flatMap((e) => [e.parent, e.child]))].sort();
  // Tags of each service (its spans' resource attributes), and the keys that
  // split the map's services into more than one group: those are worth offering.
  const tagsOf = new Map(summaries.map((s) => [s.service, s.tags || {}]));
  const tagKeys = [...new Set(summaries.flatMap((s) => Object.keys(s.tags || {})))].sort()
    .filter((key) => new Set(services.map((s) => (tagsOf.get(s) || {})[key])).size > 1);
  const focus = query.get('focus') || '';
  const hops = Number(query.get('hops') || 1);
  const direction = query.get('direction') || 'both';
  const defaultGroup = services.length > 60 && !focus ? 'prefix' : 'none';
  const group = query.get('group') || defaultGroup;
  const tagKey = group.startsWith('tag:') ? group.slice(4) : null;
  const expanded = new Set((query.get('expand') || '').split(',').filter(Boolean));
  const view = query.get('view') || 'graph';
  const setQuery = (changes) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) { if (v === '' || v === null) next.delete(k); else next.set(k, v); }
    go('#/map?' + next.toString());
  };

  const form = el('form', { class: 'filters', id: 'map-form' },
    el('label', {}, 'Focus on a service', el('input', { id: 'map-focus', name: 'focus', list: 'map-services', value: focus, size: 28, placeholder: 'type a service name' })),
    el('datalist', { id: 'map-services' }, services.map((s) => el('option', { value: s }))),
    el('label', {}, 'Hops', el('select', { id: 'map-hops', name: 'hops' }, [1, 2].map((n) => el('option', { value: n, selected: n === hops }, n)))),
    el('label', {}, 'Direction', el('select', { id: 'map-direction', name: 'direction' },
      [['both', 'up- and downstream'], ['down', 'downstream (called)'], ['up', 'upstream (callers)']].map(([v, t]) => el('option', { value: v, selected: v === direction }, t)))),
    el('label', {}, 'Group', el('select', { id: 'map-group', name: 'group' },
      [['none', 'no groups'], ['prefix', 'by name prefix'], ...tagKeys.map((k) => ['tag:' + k, 'by tag ' + k])]
        .map(([v, t]) => el('option', { value: v, selected: v === group }, t)))),
    el('label', {}, 'View', el('select', { id: 'map-view', name: 'view' },
      [['graph', 'graph'], ['table', 'table']].map(([v, t]) => el('option', { value: v, selected: v === view }, t)))),
    el('button', { type: 'submit', id: 'map-apply' }, 'Show'),
    focus ? el('button', { type: 'button', id: 'map-clear', onclick: () => setQuery({ focus: '' }) }, 'Whole map') : null,
    expanded.size ? el('button', { type: 'button', id: 'map-collapse', onclick: () => setQuery({ expand: '' }) }, 'Collapse groups') : null);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    setQuery({ focus: (data.get('focus') || '').trim(), hops: data.get('hops'), direction: data.get('direction'), group: data.get('group'), view: data.get('view') });
  });

  // Which services are shown, and which node each is drawn as.
  const shown = focus ? neighbourhood(edges, focus, hops, direction) : new Set(services);
  // The group a service falls in: its name prefix, or its value of the tag
  // (services without the tag form a group of their own).
  const groupOf = (service) => {
    if (group === 'prefix') return servicePrefix(service);
    if (tagKey) return (tagsOf.get(service) || {})[tagKey] ?? `(no ${tagKey})`;
    return null;
  };
  const nodeOf = (service) => {
    const name = service === focus ? null : groupOf(service);
    if (name === null) return service;
    return expanded.has(name) ? service : 'group:' + name;
  };
  const visible = edges.filter((e) => shown.has(e.parent) && shown.has(e.child));
  // Edges between drawn nodes, summed when groups are collapsed.
  const merged = new Map();
  for (const e of visible) {
    const source = nodeOf(e.parent); const target = nodeOf(e.child);
    if (source === target && source.startsWith('group:')) continue; // inside a collapsed group
    const key = source + '→' + target + '→' + e.kind;
    const m = merged.get(key) || { source, target, kind: e.kind, calls: 0, errors: 0, p99: 0, pairs: 0 };
    m.calls += e.call_count; m.errors += e.error_count; m.p99 = Math.max(m.p99, e.p99_ns || 0); m.pairs += 1;
    merged.set(key, m);
  }
  const nodeIds = new Set();
  for (const s of shown) nodeIds.add(nodeOf(s));
  const members = new Map();
  for (const s of shown) { const n = nodeOf(s); members.set(n, (members.get(n) || 0) + 1); }
  const maxCalls = Math.max(1, ...[...merged.values()].map((m) => m.calls));

  const summary = el('p', { class: 'muted', id: 'map-summary' },
    `${shown.size} of ${services.length} services, ${visible.length} of ${edges.length} edges` +
    (focus ? ` around ${focus} (${hops} hop${hops > 1 ? 's' : ''}, ${direction})` : '') +
    (group === 'prefix' ? '; services grouped by name prefix (click a group to open it)' : '') +
    (tagKey ? `; services grouped by tag ${tagKey} (click a group to open it)` : '') +
    '. Edge width: calls; colour: error rate; dashed: async.');
  const edgeTable = table([
    { title: 'Caller', value: (m) => m.source.replace(/^group:/, '') + (m.source.startsWith('group:') ? ' (group)' : '') },
    { title: 'Called', value: (m) => m.target.replace(/^group:/, '') + (m.target.startsWith('group:') ? ' (group)' : '') },
    { title: 'Kind', value: (m) => m.kind },
    { title: 'Calls', value: (m) => m.calls },
    { title: 'Errors', value: (m) => m.errors },
    { title: 'Error rate', value: (m) => (m.calls ? (100 * m.errors / m.calls).toFixed(1) : '0.0') + '%' },
    { title: 'p99 (max)', value: (m) => formatDuration(m.p99) },
  ], [...merged.values()].sort((a, b) => b.calls - a.calls).map((m) => ({ ...m, _class: 'map-edge' })));
  const container = el('div', { id: 'map' });
  if (view === 'table') {
    setView(el('h2', {}, 'Service map'), form, summary, el('div', { id: 'map-table' }, edgeTable));
    window.tracelakeGraph = null;
    return;
  }
  setView(el('h2', {}, 'Service map'), form, summary, container, el('details', { id: 'map-table-details' }, el('summary', {}, 'Edges as a table'), el('div', { id: 'map-table' }, edgeTable)));

  const elements = [
    ...[...nodeIds].map((n) => {
      const isGroup = n.startsWith('group:');
      const name = n.replace(/^group:/, '');
      return { data: { id: 'n:' + n, service: isGroup ? null : n, group: isGroup ? name : null,
        label: isGroup ? (tagKey ? `${tagKey}=${name} (${members.get(n)})` : `${name}-* (${members.get(n)})`) : n,
        colour: serviceColour(isGroup ? name : n), focus: n === focus ? 1 : 0 } };
    }),
    ...[...merged.values()].map((m, i) => ({ data: {
      id: 'e' + i, source: 'n:' + m.source, target: 'n:' + m.target, kind: m.kind,
      label: `${m.calls} calls, ${m.errors} err, p99 ${formatDuration(m.p99)}`,
      width: 1 + 9 * Math.log(1 + m.calls) / Math.log(1 + maxCalls),
      colour: errorColour(m.calls ? m.errors / m.calls : 0),
    } })),
  ];
  const graph = cytoscape({
    container,
    elements,
    wheelSensitivity: 0.3,
    maxZoom: 1.6,
    layout: window.tracelakeDagreRegistered
      ? { name: 'dagre', rankDir: 'LR', nodeSep: 16, rankSep: 160, edgeSep: 6, animate: false }
      : { name: 'breadthfirst', directed: true, animate: false },
    style: [
      { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(colour)', 'font-size': 11, width: 16, height: 16, 'text-valign': 'center', 'text-halign': 'right', 'text-margin-x': 4 } },
      { selector: 'node[group]', style: { shape: 'round-rectangle', width: 26, height: 20, 'font-weight': 'bold' } },
      { selector: 'node[focus = 1]', style: { 'border-width': 3, 'border-color': '#111827', width: 24, height: 24 } },
      { selector: 'edge', style: { width: 'data(width)', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', 'font-size': 9, 'text-rotation': 'autorotate', opacity: 0.85 } },
      { selector: 'edge[kind = "async"]', style: { 'line-style': 'dashed' } },
      { selector: 'edge:selected', style: { label: 'data(label)' } },
      { selector: '.faded', style: { opacity: 0.15 } },
    ],
  });
  graph.on('tap', 'node', (event) => {
    const data = event.target.data();
    if (data.group) {
      const next = new Set(expanded); next.add(data.group);
      setQuery({ expand: [...next].join(',') });
    } else {
      setQuery({ focus: data.service });
    }
  });
  graph.on('dbltap', 'node', (event) => { const s = event.target.data('service'); if (s) go('#/service/' + encodeURIComponent(s)); });
  // Hovering a node fades what is not connected to it.
  graph.on('mouseover', 'node', (event) => { graph.elements().addClass('faded'); event.target.closedNeighborhood().removeClass('faded'); });
  graph.on('mouseout', 'node', () => graph.elements().removeClass('faded'));
  window.tracelakeGraph = graph;
}

// ---------- services ----------

async function servicesPage() {
  const r = await range();
  const services = await api('services', r);
  setView(el('h2', {}, 'Services'), table([
    { title: 'Service', value: (s) => s.service },
    { title: 'Spans', value: (s) => s.span_count },
    { title: 'Traces', value: (s) => s.trace_count },
    { title: 'Error spans', value: (s) => s.error_count },
  ], services, (s) => go('#/service/' + encodeURIComponent(s.service))));
}

// A uPlot line chart that fills its panel: sized from the panel's width, and
// resized with the window.
function lineChart(title, xs, series, formatter, id) {
  const box = el('div', { class: 'chart', id: id || null });
  const opts = {
    title, width: 460, height: 220,
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: ['#2563eb', '#f59e0b', '#dc2626', '#10b981'][i % 4], value: (u, v) => v === null ? '' : formatter(v) }))],
    axes: [{}, { values: (u, values) => values.map(formatter), size: 70 }],
  };
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], box);
  const fit = () => { const width = box.clientWidth - 16; if (width > 100) plot.setSize({ width, height: 220 }); };
  requestAnimationFrame(fit);
  window.addEventListener('resize', fit);
  return box;
}

async function servicePage(service) {
  const r = await range();
  // Percentiles over all the service's entry spans come from the query
  // (`by: 'service'`), the rate from the API; the functions from faas.name.
  const [points, cold, cost, operations, services] = await Promise.all([
    api('red', { ...r, service, bucket: '1m', by: 'service' }),
    api('coldstarts', r),
    api('cost', { ...r, by: 'function', limit: 1000 }),
    api('operations', { ...r, service }),
    api('services', r),
  ]);
  const known = services.find((s) => s.service === service);
  const functions = new Set(known ? known.functions : []);
  const xs = points.map((p) => p.bucket / 1e9);
  const charts = points.length ? el('div', { class: 'charts', id: 'red-charts' },
    lineChart('Requests per second', xs, [{ label: 'rate', values: points.map((p) => p.rate_per_second) }], (v) => v.toFixed(2)),
    lineChart('Error rate', xs, [{ label: 'errors', values: points.map((p) => p.error_rate) }], (v) => (v * 100).toFixed(1) + '%'),
    lineChart('Duration', xs, [
      { label: 'p50', values: points.map((p) => p.p50_ns) }, { label: 'p90', values: points.map((p) => p.p90_ns) }, { label: 'p99', values: points.map((p) => p.p99_ns) },
    ], formatDuration)) : el('p', { class: 'muted' }, 'No entry spans in this range.');
  setView(
    el('h2', {}, 'Service ', el('span', { id: 'service-name' }, service)),
    el('p', { class: 'muted', id: 'service-functions' }, functions.size ? 'Lambda functions: ' + [...functions].join(', ') : 'No Lambda function named by its spans (faas.name).'),
    charts,
    el('h3', {}, 'Operations'),
    table([{ title: 'Operation', value: (o) => o.name }, { title: 'Kind', value: (o) => o.kind }, { title: 'Spans', value: (o) => o.span_count }],
      operations, (o) => go('#/search?' + new URLSearchParams({ service, operation: o.name }).toString())),
    el('h3', {}, 'Cold starts'),
    table([
      { title: 'Function', value: (c) => c.function },
      { title: 'Invocations', value: (c) => c.invocations },
      { title: 'Cold starts', value: (c) => c.cold_starts },
      { title: 'Rate', value: (c) => (c.cold_start_rate * 100).toFixed(1) + '%' },
      { title: 'Init p50', value: (c) => c.init_p50_ms === null ? '' : c.init_p50_ms.toFixed(1) + ' ms' },
      { title: 'Init p99', value: (c) => c.init_p99_ms === null ? '' : c.init_p99_ms.toFixed(1) + ' ms' },
    ], cold.filter((c) => functions.has(c.function))),
    el('h3', {}, 'Lambda cost'),
    table([
      { title: 'Function', value: (c) => c.function },
      { title: 'Invocations', value: (c) => c.invocations },
      { title: 'GB-seconds', value: (c) => (c.gb_seconds || 0).toFixed(3) },
      { title: 'Cost', value: (c) => formatUsd(c.cost_usd) },
    ], cost.filter((c) => functions.has(c.function))),
    el('p', {}, el('a', { href: '#/search?' + new URLSearchParams({ service }).toString() }, 'Traces of this service'), ' · ',
      el('a', { href: '#/logs?' + new URLSearchParams({ service }).toString() }, 'Logs of this service'), ' · ',
      el('a', { href: '#/map?' + new URLSearchParams({ focus: service }).toString() }, 'Its neighbourhood on the map')));
}

// ---------- log search ----------

const LEVEL_COLOURS = { FATAL: '#7f1d1d', ERROR: '#dc2626', WARN: '#d97706', INFO: '#2563eb', DEBUG: '#6b7280', TRACE: '#9ca3af', NONE: '#d1d5db' };

// A stacked bar per bucket and level; clicking a bar zooms the search to it.
function logHistogram(histogram, onZoom) {
  const buckets = [...new Set(histogram.volumes.map((v) => v.bucket))].sort((a, b) => a - b);
  const byBucket = new Map(buckets.map((b) => [b, {}]));
  for (const v of histogram.volumes) byBucket.get(v.bucket)[v.level] = v.line_count;
  const max = Math.max(1, ...buckets.map((b) => Object.values(byBucket.get(b)).reduce((a, n) => a + n, 0)));
  const levels = Object.keys(LEVEL_COLOURS);
  const width = histogram.bucket_seconds * 1e9;
  return el('div', { class: 'histogram', id: 'log-histogram' },
    el('div', { class: 'bars' }, buckets.map((b) => {
      const counts = byBucket.get(b);
      const total = Object.values(counts).reduce((a, n) => a + n, 0);
      return el('div', { class: 'bar', 'data-bucket': b, title: `${formatTime(b)}: ${total} lines (click to zoom)`, onclick: () => onZoom(b, b + width) },
        levels.filter((l) => counts[l]).map((l) => el('span', { style: `height:${(100 * counts[l] / max).toFixed(2)}%;background:${LEVEL_COLOURS[l]}` })));
    })),
    el('div', { class: 'legend muted' }, buckets.length ? `${formatTime(buckets[0])} … ${formatTime(buckets[buckets.length - 1] + width)}, ${histogram.bucket_seconds} s per bar · ` : 'no lines · ',
      levels.map((l) => el('span', {}, el('i', { style: `background:${LEVEL_COLOURS[l]}` }), l, ' '))));
}

async function logsPage(query) {
  const r = await range();
  // A zoomed range (from the histogram) replaces the page's lookback.
  const zoomed = query.get('from') && query.get('to');
  const window_ = zoomed ? { from: query.get('from'), to: query.get('to') } : r;
  const form = el('form', { class: 'filters', id: 'logs-form' },
    el('label', {}, 'Text', el('input', { name: 'q', id: 'logs-text', value: query.get('q') || '', size: 30 })),
    el('label', {}, 'Level', el('select', { name: 'level' }, ['', 'ERROR', 'WARN', 'INFO', 'DEBUG'].map((l) => el('option', { value: l, selected: l === (query.get('level') || '') }, l || 'any')))),
    el('label', {}, 'Service', el('input', { name: 'service', value: query.get('service') || '' })),
    el('label', {}, 'Request id', el('input', { name: 'requestId', id: 'logs-request', value: query.get('requestId') || '', size: 36 })),
    el('label', {}, 'Trace id', el('input', { name: 'traceId', value: query.get('traceId') || '', size: 34 })),
    el('label', {}, 'Limit', el('input', { name: 'limit', value: query.get('limit') || '100', size: 5 })),
    el('button', { type: 'submit' }, 'Search'),
    zoomed ? el('button', { type: 'button', id: 'logs-unzoom', onclick: () => { const next = new URLSearchParams(query); next.delete('from'); next.delete('to'); go('#/logs?' + next.toString()); } }, 'Whole range') : null);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) if (value) params.set(key, value);
    if (zoomed) { params.set('from', query.get('from')); params.set('to', query.get('to')); }
    go('#/logs?' + params.toString());
  });
  const histogramBox = el('div', { id: 'log-histogram-box' });
  const results = el('div', { id: 'logs-results' }, el('p', { class: 'muted' }, 'Searching…'));
  setView(el('h2', {}, 'Logs'), form, histogramBox, results);
  const filters = Object.fromEntries([...query.entries()].filter(([k]) => k !== 'from' && k !== 'to'));
  const [page, histogram] = await Promise.all([
    api('logs', { ...window_, ...filters }),
    api('logs/histogram', { ...window_, ...filters }),
  ]);
  histogramBox.replaceChildren(logHistogram(histogram, (from, to) => {
    const next = new URLSearchParams(query);
    next.set('from', Math.floor(from / 1e6)); next.set('to', Math.ceil(to / 1e6));
    go('#/logs?' + next.toString());
  }));
  const hits = page.lines;
  const count = page.truncated ? `the ${hits.length} most recent lines (more match: narrow the range or filters)` : `${hits.length} lines`;
  const requestLink = (h) => h.request_id ? el('a', { class: 'mono', href: '#/logs?' + new URLSearchParams({ requestId: h.request_id }).toString(), title: 'every line of this invocation' }, h.request_id.slice(0, 8) + '…') : '';
  results.replaceChildren(el('p', { class: 'muted', id: 'logs-count' }, count), table([
    { title: 'Time', value: (h) => formatTime(h.timestamp) },
    { title: 'Level', value: (h) => el('span', { class: 'lvl-' + (h.level || '') }, h.level || '') },
    { title: 'Service', value: (h) => h.service || h.log_group || '' },
    { title: 'Request', value: requestLink },
    { title: 'Message', class: 'log-line', value: (h) => h.text || h.message },
    { title: 'Trace', class: 'mono', value: (h) => h.trace_id ? el('a', { class: 'trace-link', href: '#/trace/' + h.trace_id }, h.trace_id.slice(0, 12) + '…') : el('span', { class: 'muted' }, 'no trace') },
  ], hits.map((h) => ({ ...h, _class: 'log-hit' }))));
}

// ---------- correlation report ----------

function share(part, whole) { return whole ? (100 * part / whole).toFixed(1) + '%' : '—'; }

// A bar of a service's lines by link kind.
function linkBar(row) {
  const parts = [
    ['trace_id', row.by_trace_id, '#15803d'], ['request_id', row.by_request_id, '#65a30d'],
    ['stream', row.by_stream, '#ca8a04'], ['other / query join', row.by_other + row.by_query_join, '#0891b2'],
    ['unlinked', row.unlinked, '#dc2626'],
  ];
  const total = Math.max(row.log_lines, 1);
  return el('div', { class: 'link-bar', title: parts.map(([name, n]) => `${name}: ${n}`).join(', ') },
    parts.filter(([, n]) => n > 0).map(([name, n, colour]) => el('span', { style: `width:${(100 * n / total).toFixed(2)}%;background:${colour}` })));
}

async function correlationPage() {
  const r = await range();
  const rows = await api('correlation', r);
  const examples = (row) => el('span', {},
    row.example_trace_ids.map((t) => el('a', { class: 'mono example-trace', href: '#/trace/' + t }, t.slice(0, 8) + '… ')),
    row.example_request_ids.map((q) => el('a', { class: 'mono example-lines', href: '#/logs?' + new URLSearchParams({ requestId: q }).toString() }, 'lines ' + q.slice(0, 8) + '… ')));
  setView(
    el('h2', {}, 'Correlation'),
    el('p', { class: 'muted' }, 'Per service, how much of its telemetry is tied to traces, worst first: where to add instrumentation or turn on X-Ray next. ',
      'Lines by link kind (green: own trace id, lime: request id, amber: stream, blue: other, red: unlinked); invocations whose REPORT, spans and lines name no trace; ',
      'inbound calls (client or producer spans naming the service) whose trace context did not arrive.'),
    el('div', { id: 'correlation-table' }, table([
      { title: 'Service', value: (row) => el('span', {}, row.named_by_callers_only ? el('i', {}, row.service) : el('a', { href: '#/service/' + encodeURIComponent(row.service) }, row.service)) },
      { title: 'Gap', value: (row) => (100 * row.gap).toFixed(0) + '%' },
      { title: 'Lines linked', value: (row) => row.log_lines ? el('span', {}, share(row.log_lines - row.unlinked, row.log_lines), ` of ${row.log_lines}`, linkBar(row)) : '—' },
      { title: 'Invocations without trace', value: (row) => row.invocations ? `${row.invocations_without_trace} of ${row.invocations}` : '—' },
      { title: 'Inbound calls without context', value: (row) => row.inbound_calls ? el('span', { class: row.inbound_without_context ? 'error-text' : '' }, `${row.inbound_without_context} of ${row.inbound_calls}`) : '—' },
      { title: 'Examples', value: examples },
    ], rows.map((row) => ({ ...row, _class: 'correlation-row' })))));
}

// ---------- routing ----------

async function route() {
  const hash = location.hash || '#/search';
  const [path, queryText] = hash.slice(1).split('?');
  const query = new URLSearchParams(queryText || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll('header nav a').forEach((a) => a.classList.toggle('active', hash.startsWith(a.getAttribute('href'))));
  setView(el('p', { class: 'muted' }, 'Loading…'));
  try {
    if (parts[0] === 'trace' && parts[1]) await tracePage(parts[1]);
    else if (parts[0] === 'map') await mapPage(query);
    else if (parts[0] === 'services') await servicesPage();
    else if (parts[0] === 'service' && parts[1]) await servicePage(parts[1]);
    else if (parts[0] === 'logs') await logsPage(query);
    else if (parts[0] === 'correlation') await correlationPage();
    else await searchPage(query);
  } catch (error) {
    showError(error.message);
    setView(el('p', { class: 'error-text', id: 'page-error' }, error.message));
  }
}

document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = document.getElementById('token-input').value;
  localStorage.setItem('tracelake-token', state.token);
  document.getElementById('token-bar').hidden = true;
  route();
});
document.getElementById('lookback').addEventListener('change', route);
window.addEventListener('hashchange', route);
route();
