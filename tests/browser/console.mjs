// Drives the admins' console in headless Chromium, as an admin would from a held run's summary
// email: open the emailed link, read why the run was held, approve after the confirmation, watch
// the run to its report, sync now and dry run with their progress, the people pages; then the
// links and forms that must be refused. Every page is checked with axe-core and photographed.
//
//   node console.mjs input.json > result.json
//
// input.json (written by functions/cli/tests/browser.rs): {chromium, base, tenant, link,
// expired_link, tampered_link, other_tenant_link, other_tenant, email_html, screenshots}.
// The result: {pages: [{name, url, status, violations: [{id, impact, help, nodes, targets,
// summary}]}], steps: {…}}.
// Only the test decides what passes; this script reports what it saw.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(input.screenshots, { recursive: true });

const pages = [];
const steps = {};

const browser = await puppeteer.launch({
  executablePath: input.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

try {
  const page = await browser.newPage();
  // axe is injected as a script; the console's CSP (rightly) allows none of its own.
  await page.setBypassCSP(true);
  await page.setViewport({ width: 1100, height: 900 });

  /** axe-core on the current page, and a full-page screenshot named `name`. */
  async function check(name, status) {
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const run = await axe.run(document, { resultTypes: ['violations'] });
      return run.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.length,
        targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
        summary: v.nodes.length ? v.nodes[0].failureSummary : '',
      }));
    });
    // The top of the page, at most 1,400 pixels: what a reader sees first, at a size the docs
    // can hold.
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    const width = page.viewport().width;
    await page.screenshot({
      path: `${input.screenshots}/${name}.png`,
      clip: { x: 0, y: 0, width, height: Math.min(height, 1400) },
      captureBeyondViewport: true,
    });
    pages.push({ name, url: page.url(), status, violations: result });
  }

  /** Goes to `url`; the answer's status. */
  async function visit(url) {
    const response = await page.goto(url, { waitUntil: 'load' });
    return response ? response.status() : 0;
  }

  /** Follows a page that reloads itself (a queued or running run) until it shows the report;
   * the first progress page seen is photographed as `progressName`. */
  async function untilReport(progressName) {
    const deadline = Date.now() + 90_000;
    let sawProgress = false;
    while (await page.$('#run-progress')) {
      if (!sawProgress && progressName) {
        await check(progressName, 200);
        sawProgress = true;
      }
      if (Date.now() > deadline) throw new Error(`the run at ${page.url()} never ended`);
      // The page's script reloads it once the run has ended.
      await page.waitForNavigation({ waitUntil: 'load', timeout: 30_000 });
    }
    return sawProgress;
  }

  const text = () => page.evaluate(() => document.body.innerText);
  const statusOf = () => page.$eval('.status', (el) => el.textContent.trim().toLowerCase()).catch(() => '');

  // The summary email itself, as a mail client shows its HTML part.
  await page.goto(pathToFileURL(input.email_html).href);
  await check('email-held', 200);

  // 1. The held run's link from the email: its report says why it was held.
  let status = await visit(input.link);
  steps.held_report = { status, url: page.url(), held: (await text()).includes('Why it was held') };
  await check('report-held', status);

  // 2. Review and approve: the confirmation, then the button.
  await Promise.all([page.waitForNavigation(), page.click('a.button.primary')]);
  steps.confirm = { url: page.url(), says: (await text()).includes('Approve') };
  await check('decide-approve', 200);
  await Promise.all([page.waitForNavigation(), page.click('form button[type="submit"]')]);
  steps.approve_progress_seen = await untilReport('progress-approval');
  steps.approved = { url: page.url(), status: await statusOf() };
  await check('report-approved', 200);

  // 3. The overview, then sync now with its progress.
  const overview = `${input.base}/tenants/${input.tenant}`;
  status = await visit(overview);
  await check('overview', status);
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/sync"] button')]);
  steps.sync_progress_seen = await untilReport('progress-sync');
  steps.synced = { url: page.url(), status: await statusOf() };
  await check('report', 200);

  // 4. A dry run leads to its plan.
  await visit(overview);
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/dry-run"] button')]);
  await untilReport(null);
  steps.dry_run = { url: page.url(), plan: (await text()).includes('what a sync would have done') };
  await check('report-dry-run', 200);

  // 5. The people, and one person's history.
  status = await visit(`${overview}/people`);
  await check('people', status);
  const person = await page.$eval('main table tbody a', (a) => a.href).catch(() => null);
  steps.person_link = person !== null;
  if (person) {
    status = await visit(person);
    await check('person', status);
  }

  // 6. On a phone, and in dark mode.
  await page.setViewport({ width: 390, height: 844, isMobile: true, deviceScaleFactor: 1 });
  await visit(steps.approved.url);
  await check('report-phone', 200);
  await page.setViewport({ width: 1100, height: 900 });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  await visit(overview);
  await check('overview-dark', 200);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

  // 7. Forms without the session's CSRF token change nothing.
  steps.post_without_csrf = await page.evaluate(async (path) => {
    const bare = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    const forged = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=forged' });
    return [bare.status, forged.status];
  }, `/tenants/${input.tenant}/sync`);

  // 8. Links that must not open: tampered, expired; and another tenant's session sees nothing
  // of this tenant.
  steps.tampered = await visit(input.tampered_link);
  await check('link-tampered', steps.tampered);
  steps.expired = await visit(input.expired_link);
  await check('link-expired', steps.expired);
  const other = await browser.createBrowserContext();
  const otherPage = await other.newPage();
  await otherPage.goto(input.other_tenant_link);
  const response = await otherPage.goto(overview);
  steps.other_tenant = { status: response ? response.status() : 0, landed: otherPage.url() };
  await other.close();
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify({ pages, steps }, null, 2));
