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
  // 1. Search: all traces of the range, then only failing payments.
  await page.goto(base + '/#/search');
  await page.selectOption('#lookback', '168h');
  await page.waitForSelector('#search-results tr.trace-row');
  await page.selectOption('#search-service', 'payments');
  await page.check('input[name=errors]');
  await page.click('#search-button');
  await page.waitForFunction(() => location.hash.includes('errors=true'));
  await page.waitForSelector('#search-results tr.trace-row');
  const found = await page.locator('#search-results tr.trace-row').count();
  check(found > 0, 'the search for failing payments finds traces');
  await page.screenshot({ path: join(shots, '01-search.png'), fullPage: true });

  // 2. Open the first trace: spans and logs are shown.
  await page.locator('#search-results tr.trace-row').first().click();
  await page.waitForSelector('#waterfall .span-row');
  const spans = await page.locator('#waterfall .span-row').count();
  const expected = Number(await page.textContent('#trace-span-count'));
  check(spans === expected && spans >= 5, `waterfall shows ${spans} of ${expected} spans`);
  const logs = await page.locator('#waterfall .log-line').allTextContents();
  check(logs.length > 0, 'logs are inline in the waterfall');
  check(logs.some((line) => line.includes('ERROR')), 'an ERROR line is shown: ' + logs.join(' | '));
  await page.locator('#waterfall .span-row').nth(1).click();
  await page.waitForSelector('#span-details');
  await page.screenshot({ path: join(shots, '02-trace.png'), fullPage: true });

  // 3. The service map draws a graph.
  await page.click('#nav-map');
  await page.waitForSelector('#map canvas');
  await page.waitForFunction(() => window.tracelakeGraph && window.tracelakeGraph.nodes().length > 0);
  const graph = await page.evaluate(() => ({ nodes: window.tracelakeGraph.nodes().length, edges: window.tracelakeGraph.edges().length }));
  check(graph.nodes >= 3 && graph.edges >= 2, `service map has ${graph.nodes} nodes and ${graph.edges} edges`);
  await page.screenshot({ path: join(shots, '03-service-map.png'), fullPage: true });

  // 4. A service page with RED charts.
  await page.goto(base + '/#/service/orders');
  await page.waitForSelector('#red-charts .uplot');
  await page.screenshot({ path: join(shots, '04-service.png'), fullPage: true });

  // 5. Log search.
  await page.goto(base + '/#/logs?q=declined');
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
