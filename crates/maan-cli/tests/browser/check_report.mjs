// Drives a maan report page in headless Chromium and prints what it saw as JSON, for
// crates/maan-cli/tests/cli/report.rs to assert on (the assertions are in Rust).
//
// usage: node check_report.mjs REPORT.html PLAN.json
//   PLAN: {"videos": [id, ...], "classes": [name, ...], "width": px, "height": px,
//          "screenshot": path|null, "screenshot_video": id, "screenshot_class": name,
//          "clip": [selector, ...] (the screenshot spans these elements; the whole page without)}
// The browser is the system's Chromium ($MAAN_CHROMIUM, default /usr/bin/chromium), started
// with a new empty profile and every background service off, so that the only request is
// the page itself.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [html, planPath] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'maan-chromium-'));
const url = pathToFileURL(resolve(html)).href;
const out = { url, console: [], page_errors: [], requests: [], map_cells: [], views: [] };

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.MAAN_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: plan.width || 1400, height: plan.height || 1000 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  context.on('request', (r) => out.requests.push(r.url()));
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => out.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => out.page_errors.push(String(e)));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  // Milliseconds from the start of the navigation to the page drawn (for docs/benchmarks.md).
  out.ready_ms = await page.evaluate(() => performance.now());
  out.title = await page.title();
  out.map_cells = await page.$$eval('#map-table td[data-metric]', (tds) => tds.map((td) => ({
    run: Number(td.dataset.run), metric: td.dataset.metric, tiou: td.dataset.tiou || null,
    range: td.dataset.range || null, value: td.dataset.value === '' ? null : Number(td.dataset.value),
    text: td.textContent,
  })));
  out.class_cells = await page.$$eval('td[data-metric="class_ap"]', (tds) => tds.length);
  out.diagnosis_charts = await page.$$eval('svg.fp-profile, svg.fp-gain, svg.sensitivity, svg.false-negative', (s) => s.length);
  out.timelines = await page.$$eval('svg.timeline', (s) => s.length);
  const look = async (what) => page.$$eval('svg.timeline', (svgs, what) => svgs.map((s) => ({
    what, run: Number(s.dataset.run), video: s.dataset.video, class: s.dataset.class,
    gt_marks: s.querySelectorAll('rect.gt-mark').length,
    gt_selected: s.querySelectorAll('rect.gt-mark.sel').length,
    gt_classes: Array.from(s.querySelectorAll('rect.gt-mark')).map((r) => r.dataset.class),
    det_marks: s.querySelectorAll('rect.det-mark').length,
    cas: (s.querySelector('path.cas-line') || { getAttribute: () => null }).getAttribute('d'),
    attention: !!s.querySelector('path.att-line'),
  })), what);
  out.views.push(...(await look('initial')));
  for (const id of plan.videos || []) {
    await page.selectOption('#video-select', id);
    out.views.push(...(await look('video')));
    for (const c of plan.classes || []) {
      await page.selectOption('#class-select', c);
      out.views.push(...(await look('class')));
    }
  }
  await page.selectOption('#zoom-select', '4');
  out.views.push(...(await look('zoom')));
  if (plan.screenshot) {
    if (plan.screenshot_video) await page.selectOption('#video-select', plan.screenshot_video);
    if (plan.screenshot_class) await page.selectOption('#class-select', plan.screenshot_class);
    await page.selectOption('#zoom-select', '1');
    let clip;
    if (plan.clip) {
      clip = await page.evaluate((sels) => {
        const boxes = sels.map((s) => document.querySelector(s).getBoundingClientRect());
        const top = Math.min(...boxes.map((b) => b.top)) + window.scrollY;
        const bottom = Math.max(...boxes.map((b) => b.bottom)) + window.scrollY;
        return { x: 0, y: Math.floor(top) - 8, width: document.documentElement.clientWidth, height: Math.ceil(bottom - top) + 16 };
      }, plan.clip);
    }
    await page.screenshot({ path: plan.screenshot, fullPage: true, clip });
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out));
