// The correlation report view (#/correlation).

import { api, el, range, setView, table } from '../ui.js';

export function share(part, whole) { return whole ? (100 * part / whole).toFixed(1) + '%' : '—'; }

// A bar of a service's lines by link kind.
export function linkBar(row) {
  const parts = [
    ['trace_id', row.by_trace_id, '#15803d'], ['request_id', row.by_request_id, '#65a30d'],
    ['stream', row.by_stream, '#ca8a04'], ['other / query join', row.by_other + row.by_query_join, '#0891b2'],
    ['unlinked', row.unlinked, '#dc2626'],
  ];
  const total = Math.max(row.log_lines, 1);
  return el('div', { class: 'link-bar', title: parts.map(([name, n]) => `${name}: ${n}`).join(', ') },
    parts.filter(([, n]) => n > 0).map(([name, n, colour]) => el('span', { style: `width:${(100 * n / total).toFixed(2)}%;background:${colour}` })));
}

export async function correlationPage() {
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
