// Drives the tracelake UI in headless system Chromium.
// Usage: node ui.mjs BASE_URL SCREENSHOT_DIR
// Exits non-zero with a message on any failed expectation.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node ui.mjs BASE_URL SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const userDataDir = mkdtempSync(join(tmpdir(), 'tracelake-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
  ],
});
const page = context.pages()[0] || await context.newPage();
// Debug builds on a shared 2-core machine answer slowly; wait up to 2 minutes.
page.setDefaultTimeout(120000);
const errors = [];
page.on('pageerror', (error) => errors.push(String(error)));
page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

try {
  // 1. Search: all traces of the range, then those of one service.
  await page.goto(base + '/#/search');
  await page.selectOption('#lookback', '6h');
  await page.waitForSelector('#search-results tr.trace-row');
  const services = await page.locator('#search-service option').allTextContents();
  check(services.length > 3, 'the service list is filled: ' + services.join(', '));
  // The service of the first trace's root, so that the search finds something.
  const rootService = (await page.locator('#search-results tr.trace-row td b').first().textContent()).trim();
  check(services.includes(rootService), `the root service ${rootService} is a known service`);
  await page.selectOption('#search-service', rootService);
  await page.click('#search-button');
  await page.waitForFunction((s) => location.hash.includes('service=' + encodeURIComponent(s)), rootService);
  await page.waitForSelector('#search-results tr.trace-row');
  const found = await page.locator('#search-results tr.trace-row').count();
  check(found > 0, `the search for ${rootService} finds traces`);
  await page.screenshot({ path: join(shots, '01-search.png'), fullPage: true });

  // 2. Open the trace with the most spans: spans and logs are shown.
  const counts = await page.locator('#search-results tr.trace-row td:nth-child(4)').allTextContents();
  const biggest = counts.map(Number).reduce((best, n, i, all) => (n > all[best] ? i : best), 0);
  const listedDrawn = Number(await page.locator('#search-results tr.trace-row td:nth-child(5)').nth(biggest).textContent());
  await page.locator('#search-results tr.trace-row').nth(biggest).click();
  await page.waitForSelector('#waterfall .span-row');
  // Written spans, plus a bar for each invocation that wrote none.
  const spans = await page.locator('#waterfall .span-row:not(.synthetic)').count();
  const expected = Number(await page.textContent('#trace-span-count'));
  check(spans === expected && spans >= 2, `waterfall shows ${spans} of ${expected} spans`);
  const drawn = await page.locator('#waterfall .span-row.synthetic').count();
  check(drawn === Number(await page.textContent('#trace-synthetic-count')), 'every drawn invocation is in the waterfall');
  check(drawn === listedDrawn, `the search listed the ${drawn} invocations the trace draws (${listedDrawn})`);
  const logs = await page.locator('.log-line').allTextContents();
  check(logs.length > 0, 'the trace shows its log lines');
  await page.locator('#waterfall .span-row').nth(1).click();
  await page.waitForSelector('#span-details');
  await page.screenshot({ path: join(shots, '02-trace.png'), fullPage: true });

  // 2b. The search box takes the id as people paste it: X-Ray form, upper case.
  const traceId = (await page.textContent('#trace-id')).trim();
  const xrayForm = ('1-' + traceId.slice(0, 8) + '-' + traceId.slice(8)).toUpperCase();
  await page.goto(base + '/#/search');
  await page.waitForSelector('#trace-id-input');
  await page.fill('#trace-id-input', xrayForm);
  await page.click('#search-button');
  await page.waitForSelector('#waterfall .span-row');
  check((await page.textContent('#trace-id')).trim() === traceId, `the search box opens ${xrayForm} as ${traceId}`);

  // 3. The service map draws a graph, then focuses on one service.
  await page.click('#nav-map');
  await page.waitForSelector('#map canvas');
  await page.waitForFunction(() => window.tracelakeGraph && window.tracelakeGraph.nodes().length > 0);
  const graph = await page.evaluate(() => ({ nodes: window.tracelakeGraph.nodes().length, edges: window.tracelakeGraph.edges().length }));
  check(graph.nodes >= 3 && graph.edges >= 2, `service map has ${graph.nodes} nodes and ${graph.edges} edges`);
  const darkNodes = await page.evaluate(() => window.tracelakeGraph.nodes('[instrumented = 0]').length);
  check(darkNodes > 0, `the map draws ${darkNodes} uninstrumented services (no spans) as nodes`);
  await page.screenshot({ path: join(shots, '03-service-map.png'), fullPage: true });
  // The service with the most neighbours, typed into the search box.
  const hub = await page.evaluate(() => {
    const nodes = window.tracelakeGraph.nodes().filter((n) => n.data('service'));
    let best = nodes[0];
    nodes.forEach((n) => { if (n.degree() > best.degree()) best = n; });
    return { service: best.data('service'), neighbours: best.neighborhood('node').length };
  });
  await page.fill('#map-focus', hub.service);
  await page.selectOption('#map-hops', '1');
  await page.click('#map-apply');
  await page.waitForFunction((s) => location.hash.includes('focus=' + encodeURIComponent(s)), hub.service);
  await page.waitForFunction((s) => window.tracelakeGraph && window.tracelakeGraph.$('node[focus = 1]').length === 1
    && window.tracelakeGraph.$('node[focus = 1]').data('service') === s, hub.service);
  const focused = await page.evaluate(() => ({ nodes: window.tracelakeGraph.nodes().length, edges: window.tracelakeGraph.edges().length }));
  check(focused.nodes === hub.neighbours + 1, `the focused map shows ${hub.service} and its ${hub.neighbours} neighbours, got ${focused.nodes} nodes`);
  await page.screenshot({ path: join(shots, '06-map-focused.png'), fullPage: true });
  // Two hops up- and downstream: callers of callers and callees of callees,
  // never the other callers of a callee nor the siblings (a turn).
  const twoHops = await page.evaluate(async () => {
    const { neighbourhood } = await import('/assets/views/map.js');
    const edges = [
      { parent: 'gw', child: 'focus' }, { parent: 'edge', child: 'gw' }, { parent: 'focus', child: 'db' },
      { parent: 'db', child: 'disk' }, { parent: 'other', child: 'db' }, { parent: 'gw', child: 'sibling' },
    ];
    return [...neighbourhood(edges, 'focus', 2, 'both')].sort();
  });
  check(JSON.stringify(twoHops) === JSON.stringify(['db', 'disk', 'edge', 'focus', 'gw']),
    `2 hops up- and downstream of focus are gw, edge, db, disk; got ${twoHops}`);
  await page.selectOption('#map-view', 'table');
  await page.click('#map-apply');
  await page.waitForSelector('#map-table tr.map-edge');
  check(await page.locator('#map-table tr.map-edge').count() === focused.edges, 'the table lists the same edges');
  // A focus on a name no service of the range has (a typo) draws no node of
  // its own: the page says so and offers the whole map.
  await page.goto(base + '/#/map?focus=' + encodeURIComponent('no-such-service'));
  await page.waitForFunction(() => window.tracelakeGraph && document.querySelector('#map-summary'));
  const unknown = await page.evaluate(() => ({
    nodes: window.tracelakeGraph.nodes().length,
    note: document.querySelector('#map-unknown')?.textContent || '',
    summary: document.querySelector('#map-summary').textContent,
  }));
  check(unknown.nodes === 0 && unknown.note.includes('no-such-service') && unknown.summary.startsWith('0 of '),
    `a focus on an unknown service draws nothing and says so: ${JSON.stringify(unknown)}`);
  await page.click('#map-unknown a');
  await page.waitForFunction(() => location.hash.includes('whole=1') && !location.hash.includes('focus='));
  // Grouped by the `team` tag: one node per team of the map's services (the
  // teams come from the services API, the services from the map API), then a
  // group opened and all collapsed again.
  const teams = await page.evaluate(async () => {
    // The page's own API client and range (the same module instance the views use).
    const { api, range } = await import('/assets/ui.js');
    const r = await range();
    const [edges, services] = await Promise.all([api('map', r), api('services', r)]);
    // The map's services: the services API's (with spans or seen only
    // through their invocations) and every edge's ends.
    const onMap = new Set([...services.map((s) => s.service), ...edges.flatMap((e) => [e.parent, e.child])]);
    const byTeam = {};
    let untagged = 0;
    services.filter((s) => onMap.has(s.service)).forEach((s) => {
      const team = s.tags.team ?? '(no team)';
      if (s.instrumented && !s.tags.team) untagged += 1;
      byTeam[team] = (byTeam[team] || 0) + 1;
    });
    const dark = services.filter((s) => s.instrumented === false).map((s) => s.service);
    const inEdges = edges.filter((e) => dark.includes(e.child)).length;
    return { byTeam, services: onMap.size, untagged, dark: dark.length, inEdges, unlisted: [...onMap].filter((n) => !services.some((s) => s.service === n)) };
  });
  const teamNames = Object.keys(teams.byTeam);
  check(teamNames.filter((t) => t !== '(no team)').length > 1 && teams.untagged === 0 && teams.unlisted.length === 0,
    `every instrumented service on the map has a team tag, in several teams: ${JSON.stringify(teams)}`);
  // Uninstrumented services are nodes too (hollow, dashed), called over edges.
  check(teams.dark > 0 && teams.inEdges > 0, `the map has uninstrumented services with calls into them: ${JSON.stringify(teams)}`);
  await page.goto(base + '/#/map?group=tag%3Ateam');
  await page.waitForFunction((n) => window.tracelakeGraph && window.tracelakeGraph.nodes('[group]').length === n, teamNames.length);
  const groups = await page.evaluate(() => window.tracelakeGraph.nodes('[group]').map((n) => n.data('label')).sort());
  const expectedGroups = teamNames.map((t) => `team=${t} (${teams.byTeam[t]})`).sort();
  check(JSON.stringify(groups) === JSON.stringify(expectedGroups), `the map groups services by team: ${groups} (expected ${expectedGroups})`);
  check(await page.locator('#map-group option[value="tag:team"]').count() === 1, 'the group menu offers the team tag');
  await page.screenshot({ path: join(shots, '11-map-grouped-by-team.png'), fullPage: true });
  // The biggest real team (not the `(no team)` group of the uninstrumented services).
  const biggestTeam = teamNames.filter((t) => t !== '(no team)').reduce((a, b) => (teams.byTeam[b] > teams.byTeam[a] ? b : a));
  await page.evaluate((t) => window.tracelakeGraph.$(`node[group = "${t}"]`).emit('tap'), biggestTeam);
  await page.waitForFunction((t) => location.hash.includes('expand=' + encodeURIComponent(t)), biggestTeam);
  await page.waitForFunction((n) => window.tracelakeGraph && window.tracelakeGraph.nodes().length === n,
    teamNames.length - 1 + teams.byTeam[biggestTeam]);
  await page.screenshot({ path: join(shots, '12-map-team-opened.png'), fullPage: true });
  await page.click('#map-collapse');
  await page.waitForFunction((n) => window.tracelakeGraph && !location.hash.includes('expand=')
    && window.tracelakeGraph.nodes().length === n && window.tracelakeGraph.nodes('[group]').length === n, teamNames.length);

  // A map too large to read whole (more than `maxWhole` services; 60 unless
  // the URL says) opens on the busiest service's neighbourhood with a hint,
  // labels at 9 px or more; the whole map (grouped) is one click away, with
  // labels no smaller.
  const busiest = await page.evaluate(async () => {
    const { api, range } = await import('/assets/ui.js');
    const calls = {};
    for (const e of await api('map', await range())) for (const s of [e.parent, e.child]) calls[s] = (calls[s] || 0) + e.call_count;
    return Object.entries(calls).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  });
  await page.goto(base + '/#/map?maxWhole=5');
  await page.waitForSelector('#map-hint');
  await page.waitForFunction((s) => window.tracelakeGraph && window.tracelakeGraph.$('node[focus = 1]').data('service') === s, busiest);
  const large = await page.evaluate(() => ({ hint: document.querySelector('#map-hint').textContent, zoom: window.tracelakeGraph.zoom(), nodes: window.tracelakeGraph.nodes().length }));
  check(large.hint.includes(busiest) && large.nodes > 1, `the large map opens on the busiest service ${busiest}: ${JSON.stringify(large)}`);
  check(large.zoom * 11 >= 8.99, `its labels are readable: ${(large.zoom * 11).toFixed(1)} px`);
  await page.screenshot({ path: join(shots, '14-map-large-default.png'), fullPage: true });
  await page.click('#map-whole');
  // (A node's `group` is null, not absent, when it is a service: `[group]` would match it.)
  await page.waitForFunction(() => location.hash.includes('whole=1') && !document.querySelector('#map-hint')
    && (document.querySelector('#map-summary') || {}).textContent?.includes('grouped by name prefix')
    && window.tracelakeGraph && window.tracelakeGraph.nodes().some((n) => n.data('group')));
  const wholeZoom = await page.evaluate(() => window.tracelakeGraph.zoom());
  check(wholeZoom * 11 >= 8.99, `the whole map's labels are readable: ${(wholeZoom * 11).toFixed(1)} px`);
  await page.screenshot({ path: join(shots, '15-map-large-whole.png'), fullPage: true });

  // 4. The service page of that root service, with RED charts.
  await page.goto(base + '/#/service/' + encodeURIComponent(rootService));
  await page.waitForSelector('#red-charts .uplot');
  await page.screenshot({ path: join(shots, '04-service.png'), fullPage: true });

  // 5. Log search.
  await page.goto(base + '/#/logs?level=INFO');
  await page.waitForSelector('#logs-results tr.log-hit');
  await page.screenshot({ path: join(shots, '05-logs.png'), fullPage: true });

  // 6. A trace with an invocation that wrote no span: its bar and its lines.
  const withDrawn = await page.evaluate(async () => {
    const end = Math.floor((await (await fetch('/api/tracelake/range')).json()).default_end_ns / 1e6);
    const traces = await (await fetch(`/api/tracelake/traces?to=${end}&lookback=6h&limit=200`)).json();
    for (const t of traces) {
      const detail = await (await fetch('/api/tracelake/traces/' + t.trace_id)).json();
      if (detail.synthetic_count > 0 && detail.spans.some((n) => n.synthetic && n.logs.length > 0)) return t.trace_id;
    }
    return null;
  });
  check(withDrawn, 'a trace with an uninstrumented invocation exists in the demo data');
  await page.goto(base + '/#/trace/' + withDrawn);
  await page.waitForSelector('#waterfall .span-row.synthetic');
  const bar = page.locator('#waterfall .span-row.synthetic').first();
  check(await bar.locator('.span-bar.synthetic').count() === 1, 'the drawn invocation has a bar');
  check(await bar.locator('.mark-synthetic').count() === 1, 'the bar says it has no span of its own');
  const linesUnder = await page.evaluate(() => {
    let next = document.querySelector('#waterfall .span-row.synthetic').nextElementSibling;
    while (next && next.classList.contains('span-note')) next = next.nextElementSibling;
    return next && next.classList.contains('span-logs') ? next.querySelectorAll('.log-line').length : 0;
  });
  check(linesUnder > 0, 'its log lines are under it');
  const raw = await page.locator('#waterfall .log-line').allTextContents();
  check(!raw.some((line) => line.includes('"type":"platform.')), 'platform records read as text, not JSON');
  // Marks stay whole beside names too long for their column (narrowed here so
  // that names are cut): the name gets an ellipsis, not the marks.
  const narrow = await page.addStyleTag({ content: '#waterfall .span-row { grid-template-columns: 240px 1fr 90px !important; }' });
  const marks = await page.evaluate(() => {
    const cells = [...document.querySelectorAll('#waterfall .span-name')];
    const inside = (inner, outer) => inner.width > 0 && inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5;
    const all = cells.flatMap((cell) => [...cell.querySelectorAll('.mark')].map((m) => ({ mark: m.textContent, shown: inside(m.getBoundingClientRect(), cell.getBoundingClientRect()) })));
    const cutWithMarks = cells.filter((cell) => cell.querySelector('.mark') && [...cell.querySelectorAll('.op, .svc')].some((n) => n.scrollWidth > n.clientWidth)).length;
    return { count: all.length, hidden: all.filter((m) => !m.shown).map((m) => m.mark), cutWithMarks, titled: cells.every((c) => c.title.trim().length > 0) };
  });
  check(marks.count > 0 && marks.cutWithMarks > 0, `some marked rows have names cut to fit: ${JSON.stringify(marks)}`);
  check(marks.hidden.length === 0, `every mark is visible beside a cut name: ${JSON.stringify(marks)}`);
  check(marks.titled, 'each name cell has the whole name as its tooltip');
  await page.screenshot({ path: join(shots, '07b-trace-marks-narrow.png'), fullPage: true });
  await narrow.evaluate((node) => node.remove());
  await bar.click();
  await page.waitForSelector('#span-details');
  await page.screenshot({ path: join(shots, '07-trace-uninstrumented.png'), fullPage: true });

  // 7. The correlation report.
  await page.click('#nav-correlation');
  await page.waitForSelector('#correlation-table tr.correlation-row');
  const correlationRows = await page.locator('#correlation-table tr.correlation-row').count();
  check(correlationRows >= 3, `the correlation report lists services (${correlationRows})`);
  check(await page.locator('#correlation-table a.example-trace, #correlation-table a.example-lines').count() > 0, 'rows link to examples');
  await page.screenshot({ path: join(shots, '08-correlation.png'), fullPage: true });

  // 8. Log histogram: click the tallest bar to zoom into it.
  await page.goto(base + '/#/logs');
  await page.waitForSelector('#log-histogram .bar');
  const before = await page.locator('#log-histogram .bar').count();
  const tallest = await page.evaluate(() => {
    const bars = [...document.querySelectorAll('#log-histogram .bar')];
    const heights = bars.map((b) => [...b.children].reduce((a, c) => a + parseFloat(c.style.height || '0'), 0));
    return heights.indexOf(Math.max(...heights));
  });
  await page.screenshot({ path: join(shots, '09-logs-histogram.png'), fullPage: true });
  await page.locator('#log-histogram .bar').nth(tallest).click();
  await page.waitForFunction(() => location.hash.includes('from='));
  await page.waitForSelector('#logs-unzoom');
  await page.waitForSelector('#log-histogram .bar');
  await page.waitForSelector('#logs-results tr.log-hit');
  const zoomedBars = await page.locator('#log-histogram .bar').count();
  check(zoomedBars >= 1, `the zoomed histogram has bars (${before} before, ${zoomedBars} after)`);
  check(await page.locator('#logs-results a.trace-link').count() > 0, 'lines link to their traces');
  await page.screenshot({ path: join(shots, '10-logs-zoomed.png'), fullPage: true });

  // 9. A range that starts half an hour before the first line: the bars of
  // that half hour are there, empty, so the time axis is true.
  const gap = await page.evaluate(async () => {
    const end = Math.floor((await (await fetch('/api/tracelake/range')).json()).default_end_ns / 1e6);
    const firstBucket = async (query) => {
      const h = await (await fetch('/api/tracelake/logs/histogram?' + query)).json();
      return h.buckets.find((b) => b.line_count > 0).bucket / 1e6;
    };
    // The first day with lines, then its first half hour with lines.
    const day = await firstBucket(`to=${end}&lookback=30d&bucket=24h`);
    const first = await firstBucket(`from=${day}&to=${day + 86400000}&bucket=30m`);
    return { from: first - 1800000, to: first + 1800000 };
  });
  await page.goto(base + `/#/logs?from=${gap.from}&to=${gap.to}`);
  await page.waitForSelector('#log-histogram .bar');
  const gapBars = await page.evaluate(() => [...document.querySelectorAll('#log-histogram .bar')].map((b) => ({
    empty: b.classList.contains('empty'), height: b.getBoundingClientRect().height, drawn: [...b.children].reduce((a, c) => a + c.getBoundingClientRect().height, 0),
  })));
  const api = await page.evaluate(async (g) => (await (await fetch(`/api/tracelake/logs/histogram?from=${g.from}&to=${g.to}`)).json()).buckets.length, gap);
  check(gapBars.length === api && api >= 60, `one bar per bucket of the range, empty ones included: ${gapBars.length} bars, ${api} buckets`);
  const half = gapBars.slice(0, Math.floor(gapBars.length / 2));
  check(half.every((b) => b.empty && b.drawn === 0 && b.height > 0), 'the half hour before the first line is drawn as empty bars');
  check(gapBars.some((b) => !b.empty && b.drawn > 0), 'the half hour after it has lines');
  await page.locator('#log-histogram').screenshot({ path: join(shots, '13-logs-histogram-gap.png') });

  check(errors.length === 0, 'no JavaScript errors: ' + errors.join(' | '));
  console.log(JSON.stringify({ traces_found: found, spans, logs: logs.length, graph }));
} catch (error) {
  await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  console.error(String(error && error.stack || error));
  if (errors.length) console.error('page errors: ' + errors.join(' | '));
  await context.close();
  process.exit(1);
}
await context.close();
