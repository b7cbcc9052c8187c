// The field audit's HTML report in a real browser (Debian's Chromium via
// playwright-core): `build/audit-rate fixture DIR` photographs three
// stations' posters (one ok, one with a sticker over its code, one at
// the wrong station, one from too far) and runs qrposter audit; this
// opens DIR/out/audit.html from disk and checks what a reader sees.
//
//   AUDIT_DIR=DIR node tests/browser/audit.test.mjs
//
// The report must load nothing: every request but the file itself and
// data: URIs fails the test. Screenshot: tests/browser/out/audit.png.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'out');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const dir = process.env.AUDIT_DIR;

let failed = 0;
function check(cond, what) {
  if (cond) console.log(`ok - ${what}`);
  else { failed++; console.log(`not ok - ${what}`); }
}

async function main() {
  if (!dir) throw new Error('AUDIT_DIR is not set');
  mkdirSync(out, { recursive: true });
  const report = pathToFileURL(resolve(dir, 'out', 'audit.html')).href;
  const profile = mkdtempSync(join(tmpdir(), 'qrposter-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update'],
    viewport: { width: 1280, height: 900 },
  });
  const foreign = [];
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u === report || u.startsWith('data:')) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(report);

  const tot = async (sel, cls) => page.$eval(`${sel} .tot.${cls} b`, (b) => b.textContent);
  check(await tot('#row-totals', 'conflict') === '1', 'totals: 1 location in conflict');
  check(await tot('#row-totals', 'missing') === '2', 'totals: 2 locations missing');
  check(await tot('#photo-totals', 'foreign') === '1', 'totals: 1 photo with a foreign code');
  check(await tot('#photo-totals', 'wrong') === '1', 'totals: 1 photo in the wrong place');
  check(await tot('#photo-totals', 'unreadable') === '1', 'totals: 1 unreadable photo');

  // The totals are on the first screen, not below the fold.
  const box = await page.$eval('#photo-totals', (e) => e.getBoundingClientRect().bottom);
  check(box < 900, 'totals on the first screen');

  // Sorted by status on load: the most urgent first.
  const order = async (table) => page.$$eval(`#${table} tbody tr td:first-child`,
    (tds) => tds.map((td) => td.textContent.trim()));
  let photos = await order('photos');
  check(photos[0] === 'foreign code' && photos[1] === 'wrong place',
    `photos, most urgent first: ${photos.join(', ')}`);
  check((await order('rows'))[0] === 'conflict', 'locations: the conflict first');

  // The flagged photo shows its thumbnail with the sticker outlined.
  const outline = await page.$('#photos tbody tr:first-child svg.thumb polygon.q.foreign');
  check(outline !== null && (await outline.boundingBox()) !== null,
    'the foreign code is outlined on its thumbnail');
  const colour = await page.$eval('#photos tbody tr:first-child .st',
    (e) => getComputedStyle(e).backgroundColor);
  check(colour === 'rgb(255, 208, 208)', `the foreign code's status is red (${colour})`);
  // The payload is text, never a link.
  check(await page.$$eval('a[href]', (a) => a.length) === 0, 'no links in the report');

  // Clicking the status heading reverses the order.
  await page.click('#photos thead th:first-child');
  photos = await order('photos');
  check(photos[0] === 'ok', `sorted the other way: ${photos.join(', ')}`);
  await page.click('#photos thead th:first-child');

  await page.screenshot({ path: join(out, 'audit.png'), fullPage: true });
  check(foreign.length === 0, `no network requests (${foreign.join(' ')})`);
  check(errors.length === 0, `no script errors (${errors.join('; ')})`);
  await ctx.close();
  console.log(failed ? `${failed} failed` : 'all passed');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`not ok - ${e.message}`); process.exit(1); });
