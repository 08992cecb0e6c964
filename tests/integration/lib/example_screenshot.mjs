// One page of the dashboard in headless Debian Chromium (playwright-core), as a screenshot.
// Usage: node example_screenshot.mjs <base-url> <hash> <out.png> <empty-profile-dir>
// Waits until the page rendered its data; exits 1 on a console error or a page that failed.
import { chromium } from 'playwright-core';

const [base, hash, out, profile] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1600, height: 800 },
});
context.setDefaultTimeout(60000);  // generous: other builds share the machine
const problems = [];
let status = 0;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(base + '/' + hash);
  await page.waitForSelector('#page[data-loaded="true"], #page[data-loaded="error"]');
  if (await page.getAttribute('#page', 'data-loaded') !== 'true') {
    problems.push('the page did not load: ' + (await page.innerText('#page')));
  }
  await page.screenshot({ path: out, fullPage: true });
} catch (error) {
  problems.push(String(error.stack || error));
} finally {
  await context.close();
}
if (problems.length) {
  console.log(`not ok - ${hash}: ${problems.join(' | ')}`);
  status = 1;
} else {
  console.log(`ok - ${hash} -> ${out}`);
}
process.exit(status);
