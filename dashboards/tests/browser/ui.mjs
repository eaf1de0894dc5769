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
  await page.locator('#search-results tr.trace-row').nth(biggest).click();
  await page.waitForSelector('#waterfall .span-row');
  const spans = await page.locator('#waterfall .span-row').count();
  const expected = Number(await page.textContent('#trace-span-count'));
  check(spans === expected && spans >= 2, `waterfall shows ${spans} of ${expected} spans`);
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

  // 3. The service map draws a graph.
  await page.click('#nav-map');
  await page.waitForSelector('#map canvas');
  await page.waitForFunction(() => window.tracelakeGraph && window.tracelakeGraph.nodes().length > 0);
  const graph = await page.evaluate(() => ({ nodes: window.tracelakeGraph.nodes().length, edges: window.tracelakeGraph.edges().length }));
  check(graph.nodes >= 3 && graph.edges >= 2, `service map has ${graph.nodes} nodes and ${graph.edges} edges`);
  await page.screenshot({ path: join(shots, '03-service-map.png'), fullPage: true });

  // 4. The service page of that root service, with RED charts.
  await page.goto(base + '/#/service/' + encodeURIComponent(rootService));
  await page.waitForSelector('#red-charts .uplot');
  await page.screenshot({ path: join(shots, '04-service.png'), fullPage: true });

  // 5. Log search.
  await page.goto(base + '/#/logs?level=INFO');
  await page.waitForSelector('#logs-results tr.log-hit');
  await page.screenshot({ path: join(shots, '05-logs.png'), fullPage: true });

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
