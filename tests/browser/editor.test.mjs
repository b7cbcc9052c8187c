// The poster editor in a real browser: Debian's Chromium driven by
// playwright-core. Starts `qrposter serve` on a free loopback port, types
// into the page like a user, and checks the preview and the downloaded
// PDF (text with pdftotext, QR payload with zbarimg).
//
//   QRPOSTER=./qrposter node tests/browser/editor.test.mjs
//
// Screenshots go to tests/browser/out/. Nothing leaves this machine: every
// request the page makes to anything but the server is blocked and fails
// the test.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const top = resolve(here, '..', '..');
const out = join(here, 'out');
const QRPOSTER = resolve(top, process.env.QRPOSTER || 'qrposter');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 20000;

const NEW_HOTLINE = '1-800-555-0199';
const NEW_HOTLINE_NAME = 'Example Transit Safety Line';
// A reporting URL with a query and a fragment: the location goes between.
const QUERY_URL = 'https://cdot.example/report?lang=en#form';
const CODE = 'NYP-R1 West/é';
const NAME = 'New York Penn Station, restroom 1';

// RFC 3986: everything but A-Z a-z 0-9 - . _ ~ is percent-encoded.
const rfc3986 = (s) => encodeURIComponent(s)
  .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// A CSV file's records (RFC 4180: quoted fields, doubled quotes).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') q = false; else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// The manifest's file column holds the print run's name as downloaded
// (it travels with the PDF), never a path of the server's.
function checkManifestFiles(manifest, pdfName) {
  const rows = parseCsv(manifest);
  const col = rows[0].indexOf('file');
  check(col >= 0, `no file column: ${rows[0]}`);
  for (const r of rows.slice(1)) {
    check(r[col] === pdfName, `manifest file column '${r[col]}', want '${pdfName}'`);
  }
}

let passed = 0;
let failed = 0;
const results = [];

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function step(name, fn) {
  try {
    await fn();
    passed++;
    results.push(`ok ${passed + failed} - ${name}`);
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message.split('\n')[0]}`);
    throw e;
  }
}

function startServer() {
  return new Promise((res, rej) => {
    const env = { ...process.env, QRPOSTER_DATADIR: process.env.QRPOSTER_DATADIR || top };
    const p = spawn(QRPOSTER, ['serve', '--port', '0', '--bind', '127.0.0.1'],
      { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    const timer = setTimeout(() => rej(new Error('server did not start in 10 s')), 10000);
    p.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        res({ proc: p, url: m[0], port: m[1], banner: buf });
      }
    });
    p.on('exit', (code) => rej(new Error(`server exited with ${code}`)));
  });
}

function stopServer(proc) {
  return new Promise((res) => {
    if (proc.exitCode !== null) return res(proc.exitCode);
    const t = setTimeout(() => { proc.kill('SIGKILL'); }, 5000);
    proc.on('exit', (code) => { clearTimeout(t); res(code); });
    proc.kill('SIGINT');
  });
}

// axe-core (npm), evaluated in the page through the DevTools protocol, so
// the page's Content-Security-Policy (no inline script) stays as it is.
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const axeStates = [];

async function axeCheck(page, state) {
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}) x${v.nodes.length}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  axeStates.push(state);
  check(found.length === 0, `axe-core, ${state}: ${found.join('; ')}`);
}

async function previewVersion(page) {
  return Number(await page.getAttribute('#preview', 'data-version') || 0);
}

async function waitPreviewAfter(page, version) {
  await page.waitForFunction(
    (v) => Number(document.getElementById('preview').dataset.version || 0) > v,
    version, { timeout: STEP_MS });
}

async function main() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'qrposter-chromium-'));
  const server = await startServer();
  const foreign = [];
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
        '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    // Offline: only the qrposter server may be reached.
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(server.url) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
      foreign.push(u);
      return route.abort();
    });
    const page = ctx.pages()[0] || await ctx.newPage();
    const consoleErrors = [];
    page.on('console', (m) => {
      // A 422 (a poster that cannot be made) is an expected answer.
      if (m.type() === 'error' && !/status of 422/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    await step('server says it listens on loopback only', async () => {
      check(/loopback only/.test(server.banner), `banner: ${server.banner}`);
    });

    await step('page opens and shows a first preview', async () => {
      await page.goto(server.url, { timeout: STEP_MS });
      check((await page.title()) === 'Hotline poster maker', 'title');
      await waitPreviewAfter(page, 0);
      const opts = await page.$$eval('#template option', (o) => o.map((x) => x.value));
      check(opts.includes('restroom-letter') && opts.includes('car-card'), `templates: ${opts}`);
      check(await page.inputValue('#f-hotline') === '1-888-373-7888', 'hotline default shown');
    });

    await step('no print-run links before a print run, none in the tab order', async () => {
      check(!(await page.isVisible('#batch-pdf')) && !(await page.isVisible('#batch-manifest')),
        'print-run download links are visible before any run');
      const seen = new Set();
      await page.focus('#template');
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        seen.add(await page.evaluate(() => document.activeElement.id));
      }
      check(!seen.has('batch-pdf') && !seen.has('batch-manifest'), `tab reaches hidden links: ${[...seen]}`);
    });

    await step('axe-core finds nothing on a fresh page', async () => {
      await axeCheck(page, 'fresh page');
    });

    await step('every field has a label and a description', async () => {
      const bad = await page.$$eval('input, select', (els) => els
        .filter((e) => e.type !== 'hidden' && e.type !== 'file')
        .filter((e) => !(e.labels && e.labels.length && e.labels[0].textContent.trim()))
        .map((e) => e.id || e.name));
      check(bad.length === 0, `unlabelled: ${bad}`);
    });

    await step('keyboard alone reaches the poster kind and the fields', async () => {
      await page.focus('#template');
      const seen = [];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        seen.push(await page.evaluate(() => document.activeElement.id));
      }
      check(seen.includes('f-code') && seen.includes('f-name') && seen.includes('f-hotline'),
        `tab order: ${seen}`);
    });

    let before;
    await step('typing the location updates the preview', async () => {
      const v = await previewVersion(page);
      await page.fill('#f-code', CODE);
      await page.fill('#f-name', NAME);
      await waitPreviewAfter(page, v);
      await page.waitForSelector('#checks .good', { timeout: STEP_MS });
      before = await page.getAttribute('#preview', 'src');
      check(before.startsWith('data:image/png;base64,'), 'preview is a PNG');
    });

    await step('another number asks for its hotline\'s name and drops the national text number', async () => {
      await page.fill('#f-hotline', NEW_HOTLINE);
      await page.waitForFunction(() => document.getElementById('f-hotline_name-error').textContent.length > 0,
        null, { timeout: STEP_MS });
      check(await page.getAttribute('#f-hotline_name', 'aria-invalid') === 'true', 'the name box is not marked');
      check(await page.inputValue('#f-hotline_name') === '', 'the national name is still in the box');
      check(await page.inputValue('#f-text_number') === '', 'the national text number is still in the box');
      await axeCheck(page, 'hotline name missing');
    });

    await step('changing the hotline number changes the preview', async () => {
      const v = await previewVersion(page);
      await page.fill('#f-hotline_name', NEW_HOTLINE_NAME);
      await waitPreviewAfter(page, v);
      const after = await page.getAttribute('#preview', 'src');
      check(after !== before, 'preview image did not change');
      const status = await page.textContent('#preview-status');
      check(/up to date/.test(status), `status: ${status}`);
    });

    await step('axe-core finds nothing once "Use standard" buttons show', async () => {
      check(await page.isVisible('#f-hotline + .reset'), 'Use standard button shown');
      await axeCheck(page, 'changed hotline');
    });

    await step('screenshot (laptop)', async () => {
      await page.screenshot({ path: join(out, 'editor.png'), fullPage: true });
    });

    await step('downloaded PDF carries the new number and the right QR payload', async () => {
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.click('#download-pdf'),
      ]);
      const pdf = join(out, 'poster.pdf');
      await dl.saveAs(pdf);
      check(/^poster-.*\.pdf$/.test(dl.suggestedFilename()), `file name ${dl.suggestedFilename()}`);
      check(readFileSync(pdf).subarray(0, 5).toString() === '%PDF-', 'not a PDF');
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      check(text.includes(NEW_HOTLINE), 'new hotline number not in the PDF text');
      check(text.includes(NEW_HOTLINE_NAME), 'the hotline\'s name is not in the PDF text');
      check(!/National Human Trafficking|233733|200 languages/.test(text), 'national wording under another number');
      check(text.includes(NAME), 'location name not in the PDF text');
      execFileSync('pdftoppm', ['-r', '100', '-png', '-singlefile', pdf, join(out, 'poster')]);
      const qr = execFileSync('zbarimg', ['-q', '--raw', join(out, 'poster.png')],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const want = 'https://humantraffickinghotline.org/?loc=' + rfc3986(CODE);
      check(qr === want, `QR payload ${qr}, expected ${want}`);
    });

    await step('a CSV of locations becomes one print-run PDF, with progress', async () => {
      const csv = join(out, 'stations.csv');
      writeFileSync(csv, 'code,name\nNYP-R1,"New York Penn Station, restroom 1"\nWAS-C2,Washington Union Station\nCHI-3,Chicago Union Station\n');
      await page.setInputFiles('#csv-file', csv);
      await page.click('#batch-start');
      await page.waitForSelector('#batch-links:not([hidden])', { timeout: 60000 });
      const status = await page.textContent('#batch-status');
      check(/Done: 3 posters/.test(status), `status: ${status}`);
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.click('#batch-pdf'),
      ]);
      const pdf = join(out, 'print-run.pdf');
      await dl.saveAs(pdf);
      const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
      check(/Pages:\s+3\n/.test(info), 'print run has 3 pages');
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      check(text.split(NEW_HOTLINE).length - 1 === 3, 'the new number is on every poster');
      check(text.includes('Washington Union Station'), 'a CSV row is in the PDF');
      const [man] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.click('#batch-manifest'),
      ]);
      await man.saveAs(join(out, 'manifest.csv'));
      const m = readFileSync(join(out, 'manifest.csv'), 'utf8');
      check(m.includes('NYP-R1') && m.includes('CHI-3'), 'manifest lists the rows');
      checkManifestFiles(m, dl.suggestedFilename());
      await page.screenshot({ path: join(out, 'editor-batch.png'), fullPage: true });
      await axeCheck(page, 'print run done');
    });

    let settings;
    await step('"Save these settings" downloads a profile the command line reads', async () => {
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.click('#settings-save'),
      ]);
      settings = join(out, 'agency-settings.yaml');
      await dl.saveAs(settings);
      const y = readFileSync(settings, 'utf8');
      check(y.includes(`hotline: "${NEW_HOTLINE}"`), `no hotline in:\n${y}`);
      check(y.includes(`hotline_name: "${NEW_HOTLINE_NAME}"`), `no hotline name in:\n${y}`);
      check(!/^(code|name):/m.test(y), `the location is saved as a setting:\n${y}`);
      // The print shop's run with the same file.
      const pdf = join(out, 'print-shop.pdf');
      execFileSync(QRPOSTER, ['render', '-t', 'station-tabloid', '--profile', settings,
        '-s', 'code=SHOP-1', '-s', 'name=Print shop proof', '-o', pdf],
      { env: { ...process.env, QRPOSTER_DATADIR: process.env.QRPOSTER_DATADIR || top } });
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      check(text.includes(NEW_HOTLINE) && text.includes(NEW_HOTLINE_NAME), `the CLI poster lacks the settings:\n${text}`);
    });

    await step('"Open settings" fills the boxes of a fresh page', async () => {
      await page.reload({ timeout: STEP_MS });
      await waitPreviewAfter(page, 0);
      check(await page.inputValue('#f-hotline') === '1-888-373-7888', 'not a fresh page');
      const v = await previewVersion(page);
      await page.setInputFiles('#settings-file', settings);
      await page.waitForFunction(() => /Opened/.test(document.getElementById('settings-status').textContent),
        null, { timeout: STEP_MS });
      check(await page.inputValue('#f-hotline') === NEW_HOTLINE, 'hotline not filled in');
      check(await page.inputValue('#f-hotline_name') === NEW_HOTLINE_NAME, 'hotline name not filled in');
      await waitPreviewAfter(page, v);
      await page.fill('#f-code', 'NYP-R1');
      await page.fill('#f-name', NAME);
      await page.waitForSelector('#checks .good', { timeout: STEP_MS });
      await axeCheck(page, 'settings opened');
    });

    await step('a settings file with a mistake says where it is', async () => {
      const bad = join(out, 'bad-settings.yaml');
      writeFileSync(bad, 'agency: Example DOT\nhotlin: 1-800-555-0100\n');
      await page.setInputFiles('#settings-file', bad);
      await page.waitForFunction(() => /cannot be used/.test(document.getElementById('settings-status').textContent),
        null, { timeout: STEP_MS });
      const st = await page.textContent('#settings-status');
      check(/bad-settings\.yaml:2:1: unknown key 'hotlin'/.test(st), `status: ${st}`);
      check(await page.inputValue('#f-hotline') === NEW_HOTLINE, 'a bad file changed the boxes');
      await axeCheck(page, 'bad settings');
    });

    await step('a web address that is not a full http(s) URL is refused at its box', async () => {
      for (const bad of ['javascript:alert(1)', 'cdot.example/report']) {
        await page.fill('#f-report_url', bad);
        await page.waitForFunction(() => document.getElementById('f-report_url-error').textContent.length > 0,
          null, { timeout: STEP_MS });
        check(await page.getAttribute('#f-report_url', 'aria-invalid') === 'true', `${bad}: box not marked`);
        const msg = await page.textContent('#f-report_url-error');
        check(/full web address/.test(msg), `${bad}: message ${msg}`);
        check(await page.textContent('#f-code-error') === '', `${bad}: the message is on the location code too`);
      }
      await axeCheck(page, 'bad URL');
      const v = await previewVersion(page);
      await page.click('#f-report_url + .reset');
      await waitPreviewAfter(page, v);
      check(await page.textContent('#f-report_url-error') === '', 'URL message not cleared');
    });

    await step('an empty hotline is refused at its box, not replaced by the standard one', async () => {
      await page.fill('#f-hotline', '');
      await page.waitForFunction(() => document.getElementById('f-hotline-error').textContent.length > 0,
        null, { timeout: STEP_MS });
      check(await page.getAttribute('#f-hotline', 'aria-invalid') === 'true', 'box not marked');
      const msg = await page.textContent('#f-hotline-error');
      check(/may not be empty/.test(msg), `message: ${msg}`);
      check(/cannot be made/.test(await page.textContent('#preview-status')), 'the preview says it is fine');
      await axeCheck(page, 'empty hotline');
      const v = await previewVersion(page);
      await page.fill('#f-hotline', NEW_HOTLINE);
      await waitPreviewAfter(page, v);
    });

    await step('a CSV headed "Code,Location Name" makes a print run; a URL with a query keeps the location', async () => {
      const v = await previewVersion(page);
      await page.fill('#f-report_url', QUERY_URL);
      await waitPreviewAfter(page, v);
      const csv = join(out, 'headers.csv');
      writeFileSync(csv, 'Code,Location Name\nDEN-R3,Denver Union Station\nDEN-R4,"Denver Union Station, track 4"\n');
      await page.setInputFiles('#csv-file', csv);
      await page.click('#batch-start');
      await page.waitForFunction(() => /Done|Nothing|column/.test(document.getElementById('batch-status').textContent),
        null, { timeout: 60000 });
      const status = await page.textContent('#batch-status');
      check(/Done: 2 posters/.test(status), `status: ${status}`);
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.click('#batch-pdf'),
      ]);
      const pdf = join(out, 'headers-run.pdf');
      await dl.saveAs(pdf);
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      check(text.includes('Denver Union Station, track 4') && text.includes('DEN-R3'), 'the rows are not in the PDF');
      check(text.split(NEW_HOTLINE).length - 1 === 2, 'the opened settings\' number is not on every poster');
      execFileSync('pdftoppm', ['-r', '100', '-png', '-f', '1', '-singlefile', pdf, join(out, 'headers-run')]);
      const qr = execFileSync('zbarimg', ['-q', '--raw', join(out, 'headers-run.png')],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const want = 'https://cdot.example/report?lang=en&loc=DEN-R3#form';
      check(qr === want, `QR payload ${qr}, expected ${want}`);
      const [man] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.click('#batch-manifest'),
      ]);
      await man.saveAs(join(out, 'headers-manifest.csv'));
      checkManifestFiles(readFileSync(join(out, 'headers-manifest.csv'), 'utf8'), dl.suggestedFilename());
      await axeCheck(page, 'print run with matched headers');
      const v2 = await previewVersion(page);
      await page.click('#f-report_url + .reset');
      await waitPreviewAfter(page, v2);
    });

    await step('a hotline too long for the poster gets a message beside the field', async () => {
      await page.fill('#f-hotline', `${NEW_HOTLINE} or ${NEW_HOTLINE} or ${NEW_HOTLINE}`);
      await page.waitForFunction(() => document.getElementById('f-hotline-error').textContent.length > 0,
        null, { timeout: STEP_MS });
      check(await page.getAttribute('#f-hotline', 'aria-invalid') === 'true', 'aria-invalid');
      const msg = await page.textContent('#f-hotline-error');
      check(/too long/.test(msg), `message: ${msg}`);
      await page.screenshot({ path: join(out, 'editor-error.png'), fullPage: false });
      await axeCheck(page, 'field error');
      const v = await previewVersion(page);
      await page.click('#f-hotline + .reset');   // "Use standard"
      await waitPreviewAfter(page, v);
      check(await page.textContent('#f-hotline-error') === '', 'error cleared');
      // Back on the national number, the hotline's name is not printed:
      // a warning beside its box, which is not marked invalid.
      await page.waitForFunction(() => document.getElementById('f-hotline_name-error').textContent.length > 0,
        null, { timeout: STEP_MS });
      check(await page.getAttribute('#f-hotline_name-error', 'class') === 'field-error warning',
        'the unused name is not shown as a warning');
      check(await page.getAttribute('#f-hotline_name', 'aria-invalid') === null,
        'a box whose value is only unused is marked invalid');
    });

    await step('fits a tablet without sideways scrolling', async () => {
      await page.setViewportSize({ width: 768, height: 1024 });
      await page.waitForTimeout(200);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(over <= 0, `page is ${over}px wider than the screen`);
      await page.screenshot({ path: join(out, 'editor-tablet.png'), fullPage: false });
      await axeCheck(page, 'tablet');
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await step('a missing box: the message goes when the box is filled', async () => {
      await page.fill('#f-code', '');
      await page.click('#download-pdf');
      await page.waitForFunction(() => /first/.test(document.getElementById('download-status').textContent),
        null, { timeout: STEP_MS });
      check(await page.getAttribute('#f-code', 'aria-invalid') === 'true', 'the empty box is marked');
      check(await page.evaluate(() => document.activeElement.id) === 'f-code', 'focus moved to the empty box');
      await page.fill('#f-code', 'NYP-R1');
      check(await page.textContent('#download-status') === '', 'the "fill in first" message stayed after the box was filled');
      check(await page.getAttribute('#f-code', 'aria-invalid') === null, 'the box is still marked invalid');
    });

    await step('after a download from the keyboard, focus stays on the button', async () => {
      await page.focus('#download-pdf');
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_MS }),
        page.keyboard.press('Enter'),
      ]);
      await dl.path();
      await page.waitForFunction(() => /Downloaded/.test(document.getElementById('download-status').textContent),
        null, { timeout: STEP_MS });
      const active = await page.evaluate(() => document.activeElement.id || document.activeElement.tagName);
      check(active === 'download-pdf', `focus is on ${active}`);
    });

    await step('a variable with choices is a menu (the third language)', async () => {
      const v = await previewVersion(page);
      await page.selectOption('#template', 'multilingual-tabloid');
      await waitPreviewAfter(page, v);
      check(await page.evaluate(() => document.getElementById('f-lang2').tagName) === 'SELECT', 'lang2 is not a menu');
      const opts = await page.$$eval('#f-lang2 option', (o) => o.map((x) => [x.value, x.textContent]));
      check(opts.some(([val, txt]) => val === 'ko' && /Korean/.test(txt)), `options: ${JSON.stringify(opts)}`);
      const v2 = await previewVersion(page);
      await page.selectOption('#f-lang2', 'ko');
      await waitPreviewAfter(page, v2);
      await axeCheck(page, 'multilingual template');
      const v3 = await previewVersion(page);
      await page.selectOption('#template', 'restroom-letter');
      await waitPreviewAfter(page, v3);
    });

    await step('on a phone, a focused box is not covered and the poster menu is not cut off', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(200);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(over <= 0, `page is ${over}px wider than the screen`);
      for (const id of ['f-code', 'f-name', 'f-hotline']) {
        await page.focus('#' + id);
        await page.waitForTimeout(100);
        const r = await page.evaluate((i) => {
          const e = document.getElementById(i);
          const b = e.getBoundingClientRect();
          const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          return { top: b.top, bottom: b.bottom, h: window.innerHeight, covered: hit !== e && !e.contains(hit) };
        }, id);
        check(r.top >= 0 && r.bottom <= r.h, `${id} is off screen when focused: ${JSON.stringify(r)}`);
        check(!r.covered, `${id} is covered by something else when focused`);
      }
      const pinned = await page.evaluate(() => getComputedStyle(document.querySelector('.preview-side')).position);
      check(pinned !== 'sticky' && pinned !== 'fixed', `the preview is pinned (${pinned}) over the form`);
      const cut = await page.evaluate(() => {
        const s = document.getElementById('template');
        const c = document.createElement('canvas').getContext('2d');
        c.font = getComputedStyle(s).font;
        const text = s.options[s.selectedIndex].textContent;
        return c.measureText(text).width - (s.clientWidth - 40);
      });
      check(cut <= 0, `the poster menu's text is ${Math.round(cut)}px wider than the menu`);
      await page.screenshot({ path: join(out, 'editor-phone.png'), fullPage: false });
      await axeCheck(page, 'phone');
    });

    await step('no request left the machine and no script errors', async () => {
      check(foreign.length === 0, `foreign requests: ${foreign}`);
      check(consoleErrors.length === 0, `console errors: ${consoleErrors}`);
    });
  } finally {
    if (ctx) await ctx.close();
    const code = await stopServer(server.proc);
    rmSync(profile, { recursive: true, force: true });
    if (code !== 0) { failed++; console.log(`not ok - server exit status ${code} after SIGINT`); }
  }
}

try {
  await main();
} catch (e) {
  console.error(e.stack || String(e));
  if (failed === 0) failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
