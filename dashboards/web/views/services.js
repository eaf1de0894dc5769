// The services list (#/services) and one service's RED charts (#/service/<name>).

import { api, el, formatDuration, formatUsd, go, range, setView, table } from '../ui.js';

export async function servicesPage() {
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
export function lineChart(title, xs, series, formatter, id) {
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

export async function servicePage(service) {
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
