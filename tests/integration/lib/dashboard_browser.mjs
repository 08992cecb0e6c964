// Drives the Millrace dashboard in headless Debian Chromium with playwright-core.
// Usage: node dashboard_browser.mjs <base-url> <token> <screenshot-dir> <empty-profile-dir>
// Prints "ok - ..." / "not ok - ..." per check and exits 1 when any failed.
import { chromium } from 'playwright-core';

import { readFileSync } from 'node:fs';

const [base, token, shots, profile, ordersFile] = process.argv.slice(2);
let failures = 0;
const pass = (what) => console.log(`ok - ${what}`);
const fail = (what) => { console.log(`not ok - ${what}`); failures++; };
const check = (condition, what, detail) => (condition ? pass(what) : fail(detail ? `${what}: ${detail}` : what));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(60000);  // generous: other builds share the machine

const problems = [];  // console errors, page errors and failed requests, per phase
function watch(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A reload cancels the poll that was under way: not a failure of the page.
    const reason = request.failure() ? request.failure().errorText : '';
    if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.url()} ${reason}`);
  });
}

// Goes to a page of the dashboard and waits until it rendered its data.
async function open(page, hash, pageName) {
  // Marked unloaded first, so two pages of one kind (a list and one of its items) are told apart.
  await page.evaluate((h) => {
    document.getElementById('page').dataset.loaded = 'false';
    location.hash = h;
  }, hash);
  await page.waitForSelector(`#page[data-loaded="true"][data-page="${pageName}"]`);
  await noStrayValues(page, hash);
}

// A value the page failed to format shows as "null", "undefined" or "NaN" in its text.
async function noStrayValues(page, where) {
  // Not in what the data itself holds: raw dead-lettered records and their reasons.
  const text = await page.evaluate(() => {
    const copy = document.getElementById('page').cloneNode(true);
    copy.querySelectorAll('.raw, .dlq-reason, code').forEach((n) => n.remove());
    return copy.textContent;
  });
  const stray = /\b(null|undefined|NaN)\b/.exec(text);
  if (stray) fail(`${where} shows "${stray[1]}": ${text.slice(Math.max(0, stray.index - 80), stray.index + 40)}`);
}

// Waits (bounded) until the page's text contains `text`; the page polls the API itself.
async function waitForText(page, text) {
  try {
    await page.waitForFunction((t) => document.getElementById('page').innerText.includes(t), text);
    return true;
  } catch (e) {
    return false;
  }
}

const apiGet = async (path) => (await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } })).json();

// Waits (bounded) until `read` in the page equals what `expected` answers from the API now: the
// page polls, so a number that moves is compared with the API's latest answer, several times.
async function matchesApi(page, read, expected, tries = 20) {
  let shown, want;
  for (let i = 0; i < tries; i++) {
    want = await expected();
    shown = await page.evaluate(read);
    if (String(shown) === String(want)) return { ok: true, shown, want };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { ok: false, shown, want };
}

try {
  const page = context.pages()[0] || await context.newPage();
  watch(page);

  // Without a token the API answers 401 and the page asks for one.
  await page.goto(base + '/');
  await page.waitForSelector('#page[data-loaded="error"]');
  check((await page.innerText('#page')).includes('needs an API token'), 'without a token the page asks for one');
  problems.length = 0;  // the 401s of this phase are expected

  await page.fill('#token', token);
  await page.click('#token-save');
  await page.waitForSelector('#page[data-loaded="true"][data-page="pipelines"]');
  check(await page.evaluate(() => localStorage.getItem('millrace.token')) !== null, 'the token is kept in localStorage');
  check(await waitForText(page, 'order_metrics'), 'the pipelines page lists order_metrics');
  check(await waitForText(page, 'running'), 'which is running');
  check((await page.innerText('#project')) === 'order-monitoring', 'the header names the project');

  // Live numbers: orders ingested now show up in the pipeline's count without a reload.
  const auth = { Authorization: `Bearer ${token}` };
  // The new APIs honour the serving auth as the rest do.
  for (const path of ['/v1/datasets?q=orders', '/v1/datasets/lake:order_metrics', '/v1/lineage', '/v1/dead-letters']) {
    const open = await fetch(base + path);
    const wrong = await fetch(base + path, { headers: { Authorization: 'Bearer not-a-token' } });
    check(open.status === 401 && wrong.status === 401 && (await open.json()).error,
      `${path} needs a token (401 with a JSON body)`, `${open.status}/${wrong.status}`);
  }
  const before = (await (await fetch(`${base}/v1/pipelines/order_metrics`, { headers: auth })).json()).records.in;
  const lines = readFileSync(ordersFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).slice(0, 200);
  const ingested = await fetch(`${base}/v1/ingest/orders`, {
    method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-ndjson' }, body: lines.join('\n'),
  });
  check(ingested.ok, 'orders ingested over HTTP while the page is open', String(ingested.status));
  let after = before;
  for (let i = 0; i < 600 && after < before + lines.length; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = (await (await fetch(`${base}/v1/pipelines/order_metrics`, { headers: auth })).json()).records.in;
  }
  check(after >= before + lines.length, 'the pipeline read them', `${before} -> ${after}`);
  check(await waitForText(page, after.toLocaleString('en-US')), 'the page shows the new count live', `expected ${after}`);
  check(await page.waitForFunction(() => /\d+(\.\d)? (ms|s|min) ago/.test(document.getElementById('page').innerText))
    .then(() => true, () => false), 'and the time of the last commit');
  await page.screenshot({ path: `${shots}/pipelines.png`, fullPage: true });


  // A pipeline's own page: live charts of throughput, lag and dead letters with the API's numbers.
  await page.click('a[data-pipeline-link="order_metrics"]');
  await page.waitForSelector('#page[data-loaded="true"] [data-chart="dead_lettered"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-chart="dead_lettered"]').dataset.count) >= 2);
  const dead = await matchesApi(page, () => document.querySelector('[data-chart="dead_lettered"]').dataset.last,
    async () => (await apiGet('/v1/pipelines/order_metrics')).records.dead_lettered);
  check(dead.ok, 'the dead-letter chart ends at the API\'s dead-lettered count', `${dead.shown} vs ${dead.want}`);
  const recordsIn = await matchesApi(page, () => document.querySelector('[data-field="in"]').innerText,
    async () => (await apiGet('/v1/pipelines/order_metrics')).records.in.toLocaleString('en-US'));
  check(recordsIn.ok, 'the records-in card shows the API\'s count', `${recordsIn.shown} vs ${recordsIn.want}`);
  check(await page.locator('[data-chart="throughput"]').count() === 1 && await page.locator('[data-chart="lag"]').count() === 1,
    'with throughput and watermark-lag charts');
  await noStrayValues(page, 'the pipeline page');
  await page.screenshot({ path: `${shots}/pipeline.png`, fullPage: true });

  // From the pipeline to its lineage.
  await page.click('#to-lineage');
  await page.waitForSelector('#page[data-loaded="true"][data-page="lineage"] [data-node="pipeline:order_metrics"].focus');
  const lineage = await apiGet('/v1/lineage?pipeline=order_metrics');
  const listed = async (id) => page.$$eval(`#${id} [data-lineage-item]`, (links) => links.map((a) => a.dataset.lineageItem));
  check(JSON.stringify(await listed('upstream')) === JSON.stringify(lineage.upstream),
    'a click from the pipeline opens its lineage: what it reads, as the API answers', JSON.stringify(lineage.upstream));
  check(JSON.stringify(await listed('downstream')) === JSON.stringify(lineage.downstream) &&
    lineage.downstream.includes('lake:order_metrics') && lineage.downstream.includes('feature_view:city_orders'),
  'and what it feeds (the lake table, the feature view)', JSON.stringify(lineage.downstream));
  check(await page.locator('[data-node="topic:orders"]:not(.dim)').count() === 1, 'the graph lights its source topic');
  await page.screenshot({ path: `${shots}/lineage.png`, fullPage: true });
  await page.click('[data-node="lake:order_metrics"]');
  await page.waitForSelector('[data-node="lake:order_metrics"].focus');
  check((await listed('upstream')).includes('topic:orders'), 'a click on a node follows the lineage through it');
  await noStrayValues(page, 'the lineage page');

  await open(page, '#/pipelines', 'pipelines');
  // Stop and start from the page.
  await page.click('button[data-action="stop"][data-pipeline="order_metrics"]');
  check(await waitForText(page, 'stopped by request'), 'the stop button stops the pipeline');
  await page.click('button[data-action="start"][data-pipeline="order_metrics"]');
  check(await page.waitForSelector('button[data-action="stop"][data-pipeline="order_metrics"]').then(() => true, () => false),
    'the start button starts it again');

  await open(page, '#/topics', 'topics');
  const topics = await page.innerText('#page');
  check(topics.includes('orders') && topics.includes('orders_dlq'), 'the topics page lists orders and orders_dlq');
  check(topics.includes('order_metrics'), 'and the pipeline\'s consumer with its lag', topics.slice(0, 400));
  await page.screenshot({ path: `${shots}/topics.png`, fullPage: true });

  await open(page, '#/lake', 'lake');
  check((await page.innerText('#page')).includes('order_metrics'), 'the lake page lists the order_metrics table');
  await page.click('a[href="#/lake/order_metrics"]');
  check(await waitForText(page, 'Snapshot history'), 'a click opens the table\'s snapshot history');
  const lake = await page.innerText('#page');
  check(lake.includes('window_start') && /append|create|overwrite/.test(lake), 'with its schema and snapshots', lake.slice(0, 400));
  const snapshots = (await apiGet('/v1/lake/tables/order_metrics')).snapshots;
  const bars = await page.$$eval('svg.chart rect title', (titles) => titles.map((t) => t.textContent));
  check(bars.length === snapshots.length && bars[bars.length - 1].endsWith(': ' + snapshots[0].rows.toLocaleString('en-US')),
    'and a chart of rows per snapshot with the API\'s numbers', `${bars.length} bars, ${snapshots.length} snapshots`);
  await page.screenshot({ path: `${shots}/lake.png`, fullPage: true });

  await open(page, '#/features', 'features');
  const features = await page.innerText('#page');
  check(features.includes('city_orders') && features.includes('revenue'), 'the features page lists city_orders and its features');
  await page.screenshot({ path: `${shots}/features.png`, fullPage: true });

  await open(page, '#/checks', 'checks');
  const checks = await page.innerText('#page');
  check(checks.includes('unique(order_id)') && checks.includes('failed') && checks.includes('passed'),
    'the checks page shows the recorded results');
  const results = (await apiGet('/v1/checks?limit=500')).results;
  const chart = await page.$$eval('svg.chart.checks g[data-passed]', (gs) => gs.map((g) => [Number(g.dataset.passed), Number(g.dataset.failed)]));
  const sum = (i) => chart.reduce((total, bar) => total + bar[i], 0);
  check(chart.length > 0 && sum(0) === results.filter((r) => r.passed).length && sum(1) === results.filter((r) => !r.passed).length,
    'the chart of results over time counts what the API answers', JSON.stringify(chart));
  await page.click('#failed-only');
  check(await page.waitForFunction(() => !document.getElementById('page').innerText.includes('row_count')).then(() => true, () => false),
    '"failed only" hides the passed ones');
  await page.screenshot({ path: `${shots}/checks.png`, fullPage: true });

  // The dead letters: searchable, with their reasons, and the file the batch set aside.
  await open(page, '#/dead-letters', 'dead-letters');
  const letters = await apiGet('/v1/dead-letters?limit=500');
  check(letters.matched > 0 && (await page.innerText('#dlq-matched')) === letters.matched.toLocaleString('en-US'),
    'the dead letters page counts what the API answers', `${await page.innerText('#dlq-matched')} vs ${letters.matched}`);
  check(await page.locator('[data-quarantined$="/ref/extra/broken.csv"]').count() === 1,
    'and lists the corrupt file the batch set aside');
  const word = (letters.reasons[0].reason.match(/[A-Za-z]{4,}/) || ['late'])[0];
  await page.fill('#dlq-search', word);
  await page.press('#dlq-search', 'Enter');
  await page.waitForFunction((w) => location.hash.includes('q=' + w), word);
  await page.waitForSelector('#page[data-loaded="true"][data-page="dead-letters"]');
  const searched = await apiGet('/v1/dead-letters?q=' + encodeURIComponent(word));
  check(await waitForText(page, 'Records') && (await page.innerText('#dlq-matched')) === searched.matched.toLocaleString('en-US'),
    `a search for "${word}" finds what the API finds`, `${await page.innerText('#dlq-matched')} vs ${searched.matched}`);
  await noStrayValues(page, 'the dead letters page');
  await page.screenshot({ path: `${shots}/dead-letters.png`, fullPage: true });

  // The catalog: search, then a dataset with its schema history, checks and lineage.
  await open(page, '#/catalog', 'catalog');
  await page.fill('#catalog-search', 'restaurant');
  await page.press('#catalog-search', 'Enter');
  await page.waitForFunction(() => location.hash.includes('q=restaurant'));
  await page.waitForSelector('#page[data-loaded="true"][data-page="catalog"] a[data-dataset="lake:restaurants"]');
  const found = await apiGet('/v1/datasets?q=restaurant');
  check((await page.innerText('#catalog-total')).startsWith(String(found.total)) &&
    await page.locator('a[data-dataset]').count() === found.datasets.length,
  'a catalog search lists what the API finds', `${await page.innerText('#catalog-total')} vs ${found.total}`);
  check((await page.innerText('#page')).includes('partner-data'), 'with owners and descriptions from the YAML');
  await page.screenshot({ path: `${shots}/catalog.png`, fullPage: true });
  await page.click('a[data-dataset="lake:restaurants"]');
  check(await waitForText(page, 'Schema history') && await waitForText(page, 'cuisine') && await waitForText(page, 'Every restaurant partners sent'),
    'a dataset shows its schema, schema history and description');
  await noStrayValues(page, 'the dataset page');

  await open(page, '#/jobs', 'jobs');
  check((await page.innerText('#page')).includes('hourly_report'), 'the jobs page lists hourly_report');
  await page.click('button[data-trigger="hourly_report"]');
  // The notice may still show an earlier action's message: wait for this one's.
  await page.waitForFunction(() => /^(Started run|Trigger of)/.test(document.getElementById('notice').innerText));
  const started = await page.innerText('#notice');
  check(started.startsWith('Started run hourly_report@'), 'the trigger button starts a run', started);
  const runId = started.replace(/^Started run /, '').replace(/\.$/, '');
  const viaApi = await apiGet('/v1/runs/' + encodeURIComponent(runId));
  check(viaApi.run_id === runId && viaApi.job === 'hourly_report', 'the API knows the run the button started', JSON.stringify(viaApi).slice(0, 200));
  check(await waitForText(page, runId), 'the run is listed');
  await page.click(`a[href="#/runs/${encodeURIComponent(runId)}"]`);
  await page.waitForSelector('#page[data-loaded="true"][data-page="runs"]');
  check(await waitForText(page, 'success'), 'its page shows the run succeeding');
  check(await page.locator('svg.gantt rect').count() === 2, 'with a timeline bar per task');
  await noStrayValues(page, 'the run page');
  await page.screenshot({ path: `${shots}/run.png`, fullPage: true });

  // A failed task's log is one click away, and the failed run can be re-run.
  await open(page, '#/jobs', 'jobs');
  await page.click('button[data-trigger="quota_check"]');
  await page.waitForFunction(() => document.getElementById('notice').innerText.startsWith('Started run quota_check@'));
  const failedRun = (await page.innerText('#notice')).replace(/^Started run /, '').replace(/\.$/, '');
  await page.waitForSelector(`a[href="#/runs/${encodeURIComponent(failedRun)}"]`);
  await page.click(`a[href="#/runs/${encodeURIComponent(failedRun)}"]`);
  await page.waitForSelector('#page[data-loaded="true"][data-page="runs"]');
  check(await page.waitForSelector('#rerun').then(() => true, () => false), 'a failed run shows a re-run button');
  const runText = await page.innerText('#page');
  check(runText.includes('upstream_failed'), 'its downstream task is upstream_failed', runText.slice(0, 300));
  await noStrayValues(page, 'the failed run page');
  await page.click('button[data-log="measure"]');
  await page.waitForSelector('#task-log:not([hidden])');
  const log = await page.innerText('#task-log');
  check(log.includes('disk quota exceeded on /data'), 'a click on the failed task shows its log', log.slice(0, 200));
  await page.screenshot({ path: `${shots}/failed-run.png`, fullPage: true });
  await page.click('#rerun');
  await page.waitForFunction(() => document.getElementById('notice').innerText.startsWith('Re-running'));
  check(true, 'the re-run button re-runs the failed tasks');

  // A reload keeps the token.
  await page.reload();
  await page.waitForSelector('#page[data-loaded="true"]');
  check(true, 'a reload signs in from localStorage');
  check(problems.length === 0, 'no console errors, page errors or failed requests on any page', problems.join(' | '));

  // A phone: every page fits the width.
  const phone = await context.newPage();
  watch(phone);
  await phone.setViewportSize({ width: 375, height: 740 });
  await phone.goto(base + '/');
  await phone.waitForSelector('#page[data-loaded="true"]');
  for (const [hash, name] of [['#/pipelines', 'pipelines'], ['#/topics', 'topics'], ['#/lake', 'lake'],
    ['#/lake/order_metrics', 'lake'], ['#/features', 'features'], ['#/jobs', 'jobs'], ['#/checks', 'checks'],
    ['#/pipelines/order_metrics', 'pipelines'], ['#/dead-letters', 'dead-letters'], ['#/lineage?pipeline=order_metrics', 'lineage'],
    ['#/catalog', 'catalog'], ['#/catalog/lake%3Aorder_metrics', 'catalog'],
    [`#/runs/${encodeURIComponent(failedRun)}`, 'runs']]) {
    await open(phone, hash, name);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `phone viewport: ${hash} has no horizontal overflow`, `${overflow}px too wide`);
  }
  await phone.click('button[data-log="measure"]');
  await phone.waitForSelector('#task-log:not([hidden])');
  const logOverflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(logOverflow <= 0, 'phone viewport: an open task log fits too', `${logOverflow}px too wide`);
  await open(phone, '#/pipelines', 'pipelines');
  await phone.screenshot({ path: `${shots}/phone-pipelines.png`, fullPage: true });
  await open(phone, '#/pipelines/order_metrics', 'pipelines');
  await phone.screenshot({ path: `${shots}/phone-pipeline.png`, fullPage: true });
  check(problems.length === 0, 'no console errors on the phone either', problems.join(' | '));
} catch (error) {
  fail(`the browser test stopped: ${error.stack || error}`);
} finally {
  await context.close();
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
