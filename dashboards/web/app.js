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
    log.message || '',
    log.link === null || log.link === undefined ? el('span', { class: 'muted' }, '  (joined by request id)') : null);
}

function spanDetails(node, invocationsByRequest) {
  const s = node;
  const rows = [
    ['service', s.service], ['operation', s.name], ['kind', s.kind], ['span id', s.span_id],
    ['parent', s.parent_span_id || '—'], ['start', formatTime(s.start_time)], ['duration', formatDuration(s.duration_ns)],
    ['status', (s.status_code || '') + (s.status_message ? ': ' + s.status_message : '')],
    ['request id', s.request_id || '—'], ['cold start', s.cold_start ? 'yes' : 'no'],
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
    const row = el('div', { class: 'span-row', 'data-span-id': node.span_id },
      el('div', { class: 'span-name', style: `padding-left:${6 + node.depth * 14}px` },
        el('span', { class: 'svc', style: `background:${colour}` }, node.service || '?'), node.name || ''),
      el('div', { class: 'span-track' }, el('div', {
        class: 'span-bar' + (node.status_code === 'error' ? ' error' : ''),
        style: `left:${left}%;width:${width}%;background:${colour}`,
        title: formatDuration(node.duration_ns),
      })),
      el('div', { class: 'span-dur' }, formatDuration(node.duration_ns)));
    row.addEventListener('click', () => {
      document.querySelectorAll('.span-row.selected').forEach((r) => r.classList.remove('selected'));
      row.classList.add('selected');
      details.replaceChildren(spanDetails(node, invocationsByRequest));
    });
    rows.push(row);
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

async function mapPage() {
  const r = await range();
  const edges = await api('map', r);
  const container = el('div', { id: 'map' });
  setView(el('h2', {}, 'Service map'),
    el('p', { class: 'muted', id: 'map-summary' }, `${edges.length} edges; dashed edges are async (queues, events, span links). Click a service for its page.`),
    container);
  const nodes = new Set();
  edges.forEach((e) => { nodes.add(e.parent); nodes.add(e.child); });
  const elements = [
    ...[...nodes].map((n) => ({ data: { id: 'n:' + n, label: n, colour: serviceColour(n) } })),
    ...edges.map((e, i) => ({ data: {
      id: 'e' + i, source: 'n:' + e.parent, target: 'n:' + e.child,
      label: `${e.call_count} calls${e.error_count ? ', ' + e.error_count + ' err' : ''}, p99 ${formatDuration(e.p99_ns)}`,
      kind: e.kind, width: 1 + Math.min(6, Math.log10(1 + e.call_count) * 2), errors: e.error_count > 0 ? 1 : 0,
    } })),
  ];
  const graph = cytoscape({
    container,
    elements,
    layout: { name: 'breadthfirst', directed: true, spacingFactor: 1.1, animate: false },
    style: [
      { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(colour)', 'font-size': 10, width: 18, height: 18 } },
      { selector: 'edge', style: { width: 'data(width)', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': '#9ca3af', 'target-arrow-color': '#9ca3af', 'font-size': 8, 'text-rotation': 'autorotate' } },
      { selector: 'edge[kind = "async"]', style: { 'line-style': 'dashed' } },
      { selector: 'edge[errors = 1]', style: { 'line-color': '#e67e73', 'target-arrow-color': '#e67e73' } },
      { selector: 'edge:selected', style: { label: 'data(label)' } },
    ],
  });
  graph.on('tap', 'node', (event) => go('#/service/' + encodeURIComponent(event.target.data('label'))));
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

function lineChart(title, xs, series, formatter) {
  const box = el('div', { class: 'chart' });
  const opts = {
    title, width: 460, height: 220,
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: ['#2563eb', '#f59e0b', '#dc2626', '#10b981'][i % 4], value: (u, v) => v === null ? '' : formatter(v) }))],
    axes: [{}, { values: (u, values) => values.map(formatter), size: 70 }],
  };
  new uPlot(opts, [xs, ...series.map((s) => s.values)], box);
  return box;
}

async function servicePage(service) {
  const r = await range();
  const [points, cold, cost, operations] = await Promise.all([
    api('red', { ...r, service, bucket: '1m' }),
    api('coldstarts', r),
    api('cost', { ...r, by: 'function', limit: 1000 }),
    api('operations', { ...r, service }),
  ]);
  // Sum the operations per bucket for the service-level charts.
  const buckets = new Map();
  for (const p of points) {
    const b = buckets.get(p.bucket) || { requests: 0, errors: 0, p50: 0, p90: 0, p99: 0 };
    b.requests += p.request_count; b.errors += p.error_count;
    b.p50 = Math.max(b.p50, p.p50_ns || 0); b.p90 = Math.max(b.p90, p.p90_ns || 0); b.p99 = Math.max(b.p99, p.p99_ns || 0);
    buckets.set(p.bucket, b);
  }
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const xs = keys.map((k) => k / 1e9);
  const at = (f) => keys.map((k) => f(buckets.get(k)));
  // Lambda function names usually carry the service name (`orders`, `orders-fn004`, `prod-orders`).
  const matches = (name) => !!name && (name === service || name.startsWith(service + '-') || name.endsWith('-' + service));
  const charts = keys.length ? el('div', { class: 'charts', id: 'red-charts' },
    lineChart('Requests per second', xs, [{ label: 'rate', values: at((b) => b.requests / 60) }], (v) => v.toFixed(2)),
    lineChart('Error rate', xs, [{ label: 'errors', values: at((b) => b.requests ? b.errors / b.requests : 0) }], (v) => (v * 100).toFixed(1) + '%'),
    lineChart('Duration', xs, [
      { label: 'p50', values: at((b) => b.p50) }, { label: 'p90', values: at((b) => b.p90) }, { label: 'p99', values: at((b) => b.p99) },
    ], formatDuration)) : el('p', { class: 'muted' }, 'No entry spans in this range.');
  setView(
    el('h2', {}, 'Service ', el('span', { id: 'service-name' }, service)),
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
    ], cold.filter((c) => matches(c.function))),
    el('h3', {}, 'Lambda cost'),
    table([
      { title: 'Function', value: (c) => c.function },
      { title: 'Invocations', value: (c) => c.invocations },
      { title: 'GB-seconds', value: (c) => (c.gb_seconds || 0).toFixed(3) },
      { title: 'Cost', value: (c) => formatUsd(c.cost_usd) },
    ], cost.filter((c) => matches(c.function))),
    el('p', {}, el('a', { href: '#/search?' + new URLSearchParams({ service }).toString() }, 'Traces of this service'), ' · ',
      el('a', { href: '#/logs?' + new URLSearchParams({ service }).toString() }, 'Logs of this service')));
}

// ---------- log search ----------

async function logsPage(query) {
  const r = await range();
  const form = el('form', { class: 'filters', id: 'logs-form' },
    el('label', {}, 'Text', el('input', { name: 'q', id: 'logs-text', value: query.get('q') || '', size: 30 })),
    el('label', {}, 'Level', el('select', { name: 'level' }, ['', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].map((l) =>
      el('option', { value: l, selected: l === (query.get('level') || '') }, l || 'any')))),
    el('label', {}, 'Service', el('input', { name: 'service', value: query.get('service') || '' })),
    el('label', {}, 'Limit', el('input', { name: 'limit', value: query.get('limit') || '100', size: 4 })),
    el('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) if (value) params.set(key, value);
    go('#/logs?' + params.toString());
  });
  const results = el('div', { id: 'logs-results' }, el('p', { class: 'muted' }, 'Searching…'));
  setView(el('h2', {}, 'Logs'), form, results);
  const hits = await api('logs', { ...r, ...Object.fromEntries(query.entries()) });
  results.replaceChildren(el('p', { class: 'muted' }, `${hits.length} lines`), table([
    { title: 'Time', value: (h) => formatTime(h.timestamp) },
    { title: 'Level', value: (h) => el('span', { class: 'lvl-' + (h.level || '') }, h.level || '') },
    { title: 'Service', value: (h) => h.service || h.log_group || '' },
    { title: 'Message', class: 'log-line', value: (h) => h.message },
    { title: 'Trace', class: 'mono', value: (h) => h.trace_id ? el('a', { href: '#/trace/' + h.trace_id }, h.trace_id.slice(0, 12) + '…') : '' },
  ], hits.map((h) => ({ ...h, _class: 'log-hit' }))));
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
    else if (parts[0] === 'map') await mapPage();
    else if (parts[0] === 'services') await servicesPage();
    else if (parts[0] === 'service' && parts[1]) await servicePage(parts[1]);
    else if (parts[0] === 'logs') await logsPage(query);
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
