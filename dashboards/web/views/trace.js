// The trace view (#/trace/<id>): waterfall, span details and logs.

import { api, el, formatDuration, formatTime, formatUsd, serviceColour, setView, table } from '../ui.js';

export function kvTable(entries) {
  return el('table', { class: 'kv' }, el('tbody', {}, entries.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', { class: 'mono' }, v)))));
}

export function logLine(log) {
  return el('div', { class: 'log-line' },
    el('span', { class: 'muted' }, formatTime(log.timestamp).slice(11), ' '),
    el('span', { class: 'lvl lvl-' + (log.level || '') }, log.level || '—'),
    log.text || log.message || '',
    log.link === null || log.link === undefined ? el('span', { class: 'muted' }, '  (joined by request id)') : null);
}

export function spanDetails(node, invocationsByRequest) {
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

export async function tracePage(traceId) {
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
        : status === 'error' ? el('span', { class: 'mark mark-error', title: node.status_message || 'error' }, 'error') : null,
      node.synthetic ? el('span', { class: 'mark mark-synthetic', title: node.note || 'no span of its own: drawn from its Lambda platform lines' }, 'no span') : null,
    ];
    const row = el('div', { class: 'span-row' + (node.synthetic ? ' synthetic' : ''), 'data-span-id': node.span_id },
      // The marks never shrink; a long service or span name is cut with an
      // ellipsis instead, and the cell's tooltip gives it whole.
      el('div', { class: 'span-name', style: `padding-left:${6 + node.depth * 14}px`, title: `${node.service || '?'} ${node.name || ''}` },
        el('span', { class: 'svc', style: `background:${colour}` }, node.service || '?'),
        el('span', { class: 'op' }, node.name || ''),
        el('span', { class: 'marks' }, ...marks)),
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
