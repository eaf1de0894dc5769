// The log search view (#/logs) with its volume histogram.

import { api, el, formatTime, go, range, setView, table } from '../ui.js';

export const LEVEL_COLOURS = { FATAL: '#7f1d1d', ERROR: '#dc2626', WARN: '#d97706', INFO: '#2563eb', DEBUG: '#6b7280', TRACE: '#9ca3af', NONE: '#d1d5db' };

// A stacked bar per bucket and level; clicking a bar zooms the search to it.
export function logHistogram(histogram, onZoom) {
  // Every bucket of the range comes from the API, empty ones with 0 lines, so
  // a gap in the data is a gap on the time axis.
  const buckets = histogram.buckets.map((b) => b.bucket);
  const byBucket = new Map(buckets.map((b) => [b, {}]));
  for (const v of histogram.volumes) byBucket.get(v.bucket)[v.level] = v.line_count;
  const max = Math.max(1, ...histogram.buckets.map((b) => b.line_count));
  const lines = histogram.buckets.reduce((a, b) => a + b.line_count, 0);
  const levels = Object.keys(LEVEL_COLOURS);
  const width = histogram.bucket_seconds * 1e9;
  return el('div', { class: 'histogram', id: 'log-histogram' },
    el('div', { class: 'bars' }, buckets.map((b) => {
      const counts = byBucket.get(b);
      const total = Object.values(counts).reduce((a, n) => a + n, 0);
      return el('div', { class: total ? 'bar' : 'bar empty', 'data-bucket': b, title: `${formatTime(b)}: ${total} lines (click to zoom)`, onclick: () => onZoom(b, b + width) },
        levels.filter((l) => counts[l]).map((l) => el('span', { style: `height:${(100 * counts[l] / max).toFixed(2)}%;background:${LEVEL_COLOURS[l]}` })));
    })),
    el('div', { class: 'legend muted' }, lines ? `${lines} lines, ${formatTime(buckets[0])} … ${formatTime(buckets[buckets.length - 1] + width)}, ${histogram.bucket_seconds} s per bar · ` : 'no lines · ',
      levels.map((l) => el('span', {}, el('i', { style: `background:${LEVEL_COLOURS[l]}` }), l, ' '))));
}

export async function logsPage(query) {
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
