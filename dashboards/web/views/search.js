// The trace search view (#/search).

import { api, el, formatDuration, formatTime, go, range, setView, table } from '../ui.js';

export async function searchPage(query) {
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
      { title: 'Invocations without spans', value: (t) => t.synthetic_count },
      { title: 'Errors', value: (t) => t.error_count ? el('span', { class: 'error-text' }, t.error_count) : '0' },
      { title: 'Services', value: (t) => t.services.length + ': ' + t.services.slice(0, 6).join(', ') + (t.services.length > 6 ? ', …' : '') },
      { title: 'Trace id', class: 'mono', value: (t) => t.trace_id },
    ], traces.map((t) => ({ ...t, _class: 'trace-row' })), (t) => go('#/trace/' + t.trace_id)));
}
