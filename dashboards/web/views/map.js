// The service map view (#/map).

import { api, el, formatDuration, go, range, serviceColour, setView, table } from '../ui.js';

// The map is drawn from the API's edges; everything here is display: which
// services to show (a focused neighbourhood), how to group them (by name
// prefix or by one of the tags the services API returns, groups collapsed into
// one node), and the layered dagre layout.
if (window.cytoscape && window.cytoscapeDagre && !window.tracelakeDagreRegistered) {
  cytoscape.use(window.cytoscapeDagre);
  window.tracelakeDagreRegistered = true;
}

export function servicePrefix(name) {
  const cut = name.search(/[-_.]/);
  return cut > 0 ? name.slice(0, cut) : name;
}

// Services within `hops` of `focus`, following edges downstream, upstream or both.
// "Both" is the callers up to `hops` away plus the callees up to `hops` away,
// as in Jaeger's deep dependency graph: never a turn (down then up), which
// would pull in the other callers of a callee, services that do not talk to
// the focus at all.
export function neighbourhood(edges, focus, hops, direction) {
  const walk = (downstream) => {
    const reached = new Set([focus]);
    let frontier = new Set([focus]);
    for (let hop = 0; hop < hops; hop++) {
      const next = new Set();
      for (const e of edges) {
        const [from, to] = downstream ? [e.parent, e.child] : [e.child, e.parent];
        if (frontier.has(from) && !reached.has(to)) next.add(to);
      }
      next.forEach((n) => reached.add(n));
      frontier = next;
    }
    return reached;
  };
  const keep = new Set([focus]);
  if (direction !== 'up') walk(true).forEach((n) => keep.add(n));
  if (direction !== 'down') walk(false).forEach((n) => keep.add(n));
  return keep;
}

// The service with the most calls in and out (ties: the first by name), where
// a map too large to read whole starts.
export function busiestService(edges) {
  const calls = new Map();
  for (const e of edges) for (const s of [e.parent, e.child]) calls.set(s, (calls.get(s) || 0) + e.call_count);
  return [...calls.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([s]) => s)[0] || '';
}

// Labels are drawn at 11 px times the zoom; a fit never zooms out past this,
// so that they stay at least 9 px (pan or zoom out by hand to see the rest).
export const MIN_LABEL_ZOOM = 9 / 11;

export function errorColour(rate) {
  if (!rate) return '#9ca3af';
  const t = Math.min(1, rate * 5); // 20 % errors and more: full red
  return `hsl(${Math.round(45 - 45 * t)}, ${Math.round(60 + 30 * t)}%, ${Math.round(55 - 10 * t)}%)`;
}

export async function mapPage(query) {
  const r = await range();
  const [edges, summaries] = await Promise.all([api('map', r), api('services', r)]);
  // Every service the services API knows in the range (those with spans and
  // those seen only through their Lambda invocations) and every edge's ends.
  const services = [...new Set([...summaries.map((s) => s.service), ...edges.flatMap((e) => [e.parent, e.child])])].sort();
  // Services without spans (uninstrumented), drawn hollow and dashed.
  const dark = new Set(summaries.filter((s) => s.instrumented === false).map((s) => s.service));
  // Tags of each service (its spans' resource attributes), and the keys that
  // split the map's services into more than one group: those are worth offering.
  const tagsOf = new Map(summaries.map((s) => [s.service, s.tags || {}]));
  const tagKeys = [...new Set(summaries.flatMap((s) => Object.keys(s.tags || {})))].sort()
    .filter((key) => new Set(services.map((s) => (tagsOf.get(s) || {})[key])).size > 1);
  // A map of more than `maxWhole` services (60 by default) is unreadable whole:
  // it opens on the busiest service's neighbourhood, as a hint says, until
  // a service is chosen or the whole map (grouped) is asked for.
  const maxWhole = Number(query.get('maxWhole') || 60);
  const whole = query.get('whole') === '1';
  const autoFocus = !query.get('focus') && !whole && services.length > maxWhole ? busiestService(edges) : '';
  const focus = query.get('focus') || autoFocus;
  const hops = Number(query.get('hops') || 1);
  const direction = query.get('direction') || 'both';
  const defaultGroup = services.length > maxWhole && !focus ? 'prefix' : 'none';
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
    focus ? el('button', { type: 'button', id: 'map-clear', onclick: () => setQuery({ focus: '', whole: '1' }) }, 'Whole map') : null,
    expanded.size ? el('button', { type: 'button', id: 'map-collapse', onclick: () => setQuery({ expand: '' }) }, 'Collapse groups') : null);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = (data.get('focus') || '').trim();
    setQuery({ focus: chosen === autoFocus ? '' : chosen, whole: chosen ? '' : '1', hops: data.get('hops'), direction: data.get('direction'), group: data.get('group'), view: data.get('view') });
  });

  // Which services are shown, and which node each is drawn as. A focus that
  // names no service of the range (a typo, or a service of another range)
  // draws nothing and says so, rather than a node of that name.
  const unknownFocus = Boolean(focus) && !services.includes(focus);
  const shown = unknownFocus ? new Set()
    : focus ? neighbourhood(edges, focus, hops, direction) : new Set(services);
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

  const hint = autoFocus ? el('p', { class: 'hint', id: 'map-hint' },
    `${services.length} services are too many to read at once: this is the busiest one, ${autoFocus}, and its neighbours. ` +
    'Type a service above to focus on it, click a node to move there, or ',
    el('a', { href: '#', id: 'map-whole', onclick: (event) => { event.preventDefault(); setQuery({ whole: '1' }); } }, 'show the whole map'),
    ' (grouped by name prefix; drag to pan, scroll to zoom).') : null;
  const unknown = unknownFocus ? el('p', { class: 'hint', id: 'map-unknown' },
    `No service named "${focus}" in this range: type one of the suggestions, or `,
    el('a', { href: '#', onclick: (event) => { event.preventDefault(); setQuery({ focus: '', whole: '1' }); } }, 'show the whole map'),
    '.') : null;
  const summary = el('p', { class: 'muted', id: 'map-summary' },
    `${shown.size} of ${services.length} services, ${visible.length} of ${edges.length} edges` +
    (focus ? ` around ${focus} (${hops} hop${hops > 1 ? 's' : ''}, ${direction})` : '') +
    (group === 'prefix' ? '; services grouped by name prefix (click a group to open it)' : '') +
    (tagKey ? `; services grouped by tag ${tagKey} (click a group to open it)` : '') +
    '. Edge width: calls; colour: error rate; dashed: async; hollow dashed node: no spans (uninstrumented, seen through its Lambda invocations).');
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
    setView(el('h2', {}, 'Service map'), form, hint, unknown, summary, el('div', { id: 'map-table' }, edgeTable));
    window.tracelakeGraph = null;
    return;
  }
  setView(el('h2', {}, 'Service map'), form, hint, unknown, summary, container, el('details', { id: 'map-table-details' }, el('summary', {}, 'Edges as a table'), el('div', { id: 'map-table' }, edgeTable)));

  const elements = [
    ...[...nodeIds].map((n) => {
      const isGroup = n.startsWith('group:');
      const name = n.replace(/^group:/, '');
      return { data: { id: 'n:' + n, service: isGroup ? null : n, group: isGroup ? name : null,
        label: isGroup ? (tagKey ? `${tagKey}=${name} (${members.get(n)})` : `${name}-* (${members.get(n)})`) : n,
        colour: serviceColour(isGroup ? name : n), focus: n === focus ? 1 : 0,
        instrumented: !isGroup && dark.has(n) ? 0 : 1 } };
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
      { selector: 'node[instrumented = 0]', style: { 'background-color': '#ffffff', 'border-width': 2, 'border-style': 'dashed', 'border-color': '#9ca3af', color: '#6b7280' } },
      { selector: 'node[focus = 1]', style: { 'border-width': 3, 'border-color': '#111827', width: 24, height: 24 } },
      { selector: 'edge', style: { width: 'data(width)', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', 'font-size': 9, 'text-rotation': 'autorotate', opacity: 0.85 } },
      { selector: 'edge[kind = "async"]', style: { 'line-style': 'dashed' } },
      { selector: 'edge:selected', style: { label: 'data(label)' } },
      { selector: '.faded', style: { opacity: 0.15 } },
    ],
  });
  // Never zoomed out so far that labels cannot be read: centre instead.
  if (graph.zoom() < MIN_LABEL_ZOOM) {
    graph.zoom(MIN_LABEL_ZOOM);
    const focused = graph.nodes('[focus = 1]');
    if (focused.length) graph.center(focused); else graph.center();
  }
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
