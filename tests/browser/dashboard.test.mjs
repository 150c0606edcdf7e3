// End-to-end test of the built-in dashboard in headless Chromium (Debian's package), against a
// running server: node tests/browser/dashboard.test.mjs BASE_URL [QUERY]
//
// The expected figures come from the server's own API, fetched here independently of the page:
// the test checks that the page shows what the feed answers (and withholds what it withholds),
// not what the page computes. RENEWAL_DASHBOARD_KEY, when set, is sent as a bearer key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const BASE = (process.argv[2] || process.env.RENEWAL_DASHBOARD_URL || '').replace(/\/+$/, '');
const QUERY = process.argv[3]
  || 'authority=E08999001&indicator=crime-all&ward_vintage=WD24&bridge_weights=population-census2021-lsoa21';
// A view with a registered target in the demo's warehouse (README, "Targets").
const TARGET_QUERY = process.env.RENEWAL_DASHBOARD_TARGET_QUERY
  || 'authority=E08999001&indicator=bv-homes-01&select=areas:E05999001';
const KEY = process.env.RENEWAL_DASHBOARD_KEY || '';
const SCREENSHOT = process.env.RENEWAL_DASHBOARD_SCREENSHOT || join(REPO, 'docs', 'dashboard.png');
const OUT = join(HERE, 'out');
const EPS = 1e-9;

if (!/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(BASE)) {
  console.error(`usage: node dashboard.test.mjs http://127.0.0.1:PORT [QUERY]  (got "${BASE}"; loopback only)`);
  process.exit(2);
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let context; let profile; const pageErrors = []; const foreign = [];

async function apiJson(path, query) {
  const res = await fetch(`${BASE}${path}?${query}`, {
    headers: { Accept: 'application/json', ...(KEY ? { Authorization: `Bearer ${KEY}` } : {}) },
  });
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}
async function api(path, query) {
  const { status, body } = await apiJson(path, query);
  assert.equal(status, 200, `GET ${path}?${query} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

// The query the page sends to the API: its link parameters plus level=ward, and the period
// the page shows (the newest, when the link names none).
const withLevel = (q) => `${q}&level=ward`;
const pageUrl = (q) => `${BASE}/dashboard/?${q}${KEY ? `&key=${encodeURIComponent(KEY)}` : ''}`;

async function openPage(q, viewport = { width: 1280, height: 900 }) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.on('pageerror', (e) => pageErrors.push(`${q}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(`${q}: console: ${m.text()}`); });
  await page.goto(pageUrl(q));
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 60000 });
  return page;
}

before(async () => {
  // One clear message when nothing answers, rather than every test failing on its own.
  const res = await fetch(`${BASE}/dashboard/`).catch((e) => {
    throw new Error(`no server answers at ${BASE}/dashboard/: ${e.cause?.message || e.message}`);
  });
  if (res.status !== 200) throw new Error(`${BASE}/dashboard/ answered ${res.status}, not 200`);
  profile = mkdtempSync(join(tmpdir(), 'renewal-chromium-'));
  mkdirSync(OUT, { recursive: true });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  // The network is closed, and the dashboard must need nothing from elsewhere (no CDN).
  const origin = new URL(BASE).origin;
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    foreign.push(u);
    return route.abort();
  });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the dashboard loads, asks nothing of another origin and raises no script error', async () => {
  const page = await openPage(QUERY);
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready', `the page did not finish loading: ${await page.textContent('#error')}`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  for (const landmark of ['header', 'main', 'footer']) assert.equal(await page.locator(landmark).count(), 1, `one <${landmark}> landmark`);
  assert.deepEqual(foreign, [], 'requests to other origins');
  assert.deepEqual(pageErrors, [], 'script errors');
  // A key given in the link is kept in memory only: it leaves the address bar at once.
  assert.ok(!/[?&]key=/.test(page.url()), `the key is still in the address bar: ${page.url()}`);
  await page.close();
});

test('with keys required, a page without one shows the refusal in the server\'s words', { skip: !KEY && 'RENEWAL_DASHBOARD_KEY is not set' }, async () => {
  const res = await fetch(`${BASE}/api/v1/indicators`, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  assert.ok(res.status === 401 || res.status === 403, `no key: ${res.status}`);
  assert.equal(typeof body?.error?.message, 'string', 'the refusal has a JSON error message');
  const page = await context.newPage();
  await page.goto(`${BASE}/dashboard/?${QUERY}`);
  await page.waitForSelector('body[data-state="error"]', { timeout: 60000 });
  assert.equal((await page.textContent('#error')).trim(), body.error.message);
  // The key typed into the password field then opens the view, and stays out of the link.
  await page.fill('#key', KEY);
  await page.click('#show');
  await page.waitForSelector('body[data-state="ready"]', { timeout: 60000 });
  assert.ok(await page.isHidden('#error'), 'the refusal is cleared');
  assert.ok((await page.locator('#map path[data-code]').count()) > 0, 'the map is drawn with the key');
  assert.ok(!page.url().includes(KEY), 'the key is not in the link');
  await page.close();
});

test('the map has exactly one path[data-code] per GeoJSON feature, categorised as the API says', async () => {
  const page = await openPage(QUERY);
  const period = await page.inputValue('#period');
  const fc = await api('/api/v1/map', `${withLevel(QUERY)}&period=${encodeURIComponent(period)}`);
  assert.equal(fc.type, 'FeatureCollection');
  assert.ok(fc.features.length > 0, 'the map answer has features');
  const paths = await page.$$eval('#map path[data-code]', (ps) => ps.map((p) => ({
    code: p.dataset.code, category: p.dataset.category, fill: p.getAttribute('fill'),
    title: p.querySelector('title')?.textContent || '', tabindex: p.getAttribute('tabindex'),
  })));
  assert.equal(paths.length, fc.features.length, 'one path per feature');
  assert.deepEqual(paths.map((p) => p.code).sort(), fc.features.map((f) => f.properties.area_code).sort(), 'the same ward codes');
  let withheld = 0;
  for (const f of fc.features) {
    const pr = f.properties; const p = paths.find((x) => x.code === pr.area_code);
    const held = pr.withheld != null || pr.suppressed === true;
    const want = held ? 'withheld' : ['better', 'similar', 'worse', 'higher', 'lower'].includes(pr.comparison_95) ? pr.comparison_95 : 'not-compared';
    assert.equal(p.category, want, `${pr.area_code}: category`);
    assert.equal(p.fill, `url(#pat-${want})`, `${pr.area_code}: fill`);
    assert.equal(p.tabindex, '0', `${pr.area_code}: focusable`);
    assert.ok(p.title.includes(pr.area_code), `${pr.area_code}: <title> names the ward: "${p.title}"`);
    if (held) { withheld += 1; assert.match(p.title, /withheld/, `${pr.area_code}: title says withheld`); }
  }
  const legend = await page.$$eval('#legend li', (ls) => ls.map((l) => l.dataset.category));
  for (const c of ['better', 'similar', 'worse', 'not-compared', 'withheld']) assert.ok(legend.includes(c), `legend shows ${c}`);
  console.log(`# map: ${paths.length} wards, ${withheld} withheld`);
  await page.close();
});

test("every table cell's data-value equals the API's figure, and withheld cells say withheld", async () => {
  const page = await openPage(QUERY);
  const period = await page.inputValue('#period');
  const gap = await api('/api/v1/gap', `${withLevel(QUERY)}&period=${encodeURIComponent(period)}`);
  const cells = await page.$$eval('#wards tbody tr', (trs) => trs.map((tr) => ({
    code: tr.dataset.code,
    cells: Object.fromEntries([...tr.querySelectorAll('[data-field]')].map((c) => [c.dataset.field,
      { value: c.getAttribute('data-value'), text: c.textContent.trim(), category: c.dataset.category }])),
  })));
  assert.equal(cells.length, gap.rows.length, 'one table row per API row');
  let compared = 0; let withheld = 0;
  for (const r of gap.rows) {
    const row = cells.find((c) => c.code === r.area_code);
    assert.ok(row, `${r.area_code} is in the table`);
    assert.ok(row.cells.area_name.text.includes(r.area_name), `${r.area_code}: name`);
    const held = r.withheld != null || r.suppressed === true;
    for (const f of ['value', 'lower_95', 'upper_95', 'gap', 'rank_in_parent']) {
      const c = row.cells[f];
      assert.ok(c, `${r.area_code}: a ${f} cell`);
      if (held) {
        withheld += 1;
        assert.equal(c.text, 'withheld', `${r.area_code}.${f} says withheld`);
        assert.equal(c.value, null, `${r.area_code}.${f}: no data-value on a withheld cell`);
      } else if (r[f] === null || r[f] === undefined) {
        assert.equal(c.value, null, `${r.area_code}.${f}: the API has no figure, so no data-value`);
        assert.notEqual(c.text, '0', `${r.area_code}.${f}: a missing figure is not shown as 0`);
      } else {
        compared += 1;
        assert.ok(c.value !== null, `${r.area_code}.${f}: data-value present`);
        assert.ok(Math.abs(Number(c.value) - r[f]) <= EPS, `${r.area_code}.${f}: page ${c.value} vs API ${r[f]}`);
        assert.notEqual(c.text, '', `${r.area_code}.${f}: shown`);
      }
    }
    const cat = row.cells.comparison_95;
    assert.equal(cat.category, held ? 'withheld' : (['better', 'similar', 'worse', 'higher', 'lower'].includes(r.comparison_95) ? r.comparison_95 : 'not-compared'), `${r.area_code}: comparison`);
  }
  console.log(`# table: ${compared} figures equal to the API, ${withheld} withheld cells`);
  await page.close();
});

test("the footer lists the answer's dataset versions, fit and notes", async () => {
  const page = await openPage(QUERY);
  const period = await page.inputValue('#period');
  const gap = await api('/api/v1/gap', `${withLevel(QUERY)}&period=${encodeURIComponent(period)}`);
  const shown = await page.$$eval('#basis [data-dataset]', (ls) => Object.fromEntries(ls.map((l) => [l.dataset.dataset, Number(l.dataset.version)])));
  assert.deepEqual(shown, gap.basis.datasets, 'dataset versions');
  const text = await page.textContent('#basis');
  if (gap.basis.fit) assert.ok(text.includes(gap.basis.fit), `fit ${gap.basis.fit}`);
  for (const n of gap.notes) assert.ok(text.includes(n), `note shown: ${n}`);
  for (const b of gap.basis.bridges || []) assert.ok(text.includes(`${b.dataset} moved`), `bridge of ${b.dataset} shown`);
  await page.close();
});

test('Tab moves through the controls in order, every ward and the sort buttons; Enter re-sorts', async () => {
  const page = await openPage(QUERY);
  const describe = () => page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return 'body';
    if (a.dataset && a.dataset.code) return `ward:${a.dataset.code}`;
    if (a.classList.contains('sort')) return `sort:${a.dataset.key}`;
    return a.id || `${a.tagName.toLowerCase()}[${a.getAttribute('name') || a.value || ''}]`;
  });
  const last = await page.$$eval('#wards button.sort', (bs) => `sort:${bs[bs.length - 1].dataset.key}`);
  const order = [];
  let ringSeen = 0;
  for (let i = 0; i < 400 && order[order.length - 1] !== last; i += 1) {
    await page.keyboard.press('Tab');
    order.push(await describe());
    // A focused ward gets the ring drawn over the whole map, on its own outline.
    if (order[order.length - 1].startsWith('ward:')) {
      const same = await page.evaluate(() => document.querySelector('#map .focus-ring')?.getAttribute('d') === document.activeElement.getAttribute('d'));
      assert.ok(same, `the focus ring follows ${order[order.length - 1]}`);
      ringSeen += 1;
    }
  }
  assert.ok(ringSeen > 0, 'a ward was focused');
  assert.equal(order[order.length - 1], last, `Tab never reached the last sort button: ${order.join(' → ')}`);
  assert.deepEqual(order.slice(0, 3), ['authority', 'indicator', 'period'], `the first controls: ${order.join(' → ')}`);
  const vintageShown = await page.isVisible('#ward_vintage');
  const controls = ['authority', 'indicator', 'period', ...(vintageShown ? ['ward_vintage'] : []), 'bridge_weights', 'key', 'show'];
  const at = controls.map((c) => order.indexOf(c));
  assert.ok(at.every((x, i) => x >= 0 && (i === 0 || x > at[i - 1])), `controls in order ${controls.join(' → ')}; got ${order.join(' → ')}`);
  const codes = await page.$$eval('#map path[data-code]', (ps) => ps.map((p) => `ward:${p.dataset.code}`));
  for (const c of codes) assert.ok(order.includes(c), `${c} is reached by Tab`);
  const sorts = await page.$$eval('#wards button.sort', (bs) => bs.map((b) => `sort:${b.dataset.key}`));
  const firstSort = order.indexOf(sorts[0]);
  assert.deepEqual(order.slice(firstSort), sorts, 'the sort buttons, in column order, end the sequence');
  assert.ok(firstSort > Math.max(...codes.map((c) => order.indexOf(c))), 'the wards come before the table');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'a visible focus ring on the focused button');

  // Back to the Value button, and sort with the keyboard alone.
  for (let i = 0; i < sorts.length && (await describe()) !== 'sort:value'; i += 1) await page.keyboard.press('Shift+Tab');
  assert.equal(await describe(), 'sort:value');
  const values = () => page.$$eval('#wards tbody tr', (trs) => trs.map((tr) => {
    const v = tr.querySelector('[data-field="value"]').getAttribute('data-value');
    return v === null ? null : Number(v);
  }));
  const sortedAs = (vs, dir) => {
    const nums = vs.filter((v) => v !== null);
    const firstNull = vs.indexOf(null);
    const nullsLast = firstNull === -1 || vs.slice(firstNull).every((v) => v === null);
    return nullsLast && nums.every((v, i) => i === 0 || (dir === 'ascending' ? nums[i - 1] <= v : nums[i - 1] >= v));
  };
  const before = await values();
  await page.keyboard.press('Enter');
  const asc = await values();
  assert.ok(sortedAs(asc, 'ascending'), `ascending after Enter (withheld last): ${asc}`);
  assert.equal(await page.getAttribute('#wards th[data-key="value"]', 'aria-sort'), 'ascending');
  assert.equal(await describe(), 'sort:value', 'focus stays on the button');
  await page.keyboard.press('Enter');
  const desc = await values();
  assert.ok(sortedAs(desc, 'descending'), `descending after a second Enter (withheld last): ${desc}`);
  assert.equal(await page.getAttribute('#wards th[data-key="value"]', 'aria-sort'), 'descending');
  assert.deepEqual([...asc].sort(), [...before].sort(), 'sorting keeps every row');
  if (new Set(before.filter((v) => v !== null)).size > 1) assert.notDeepEqual(asc, desc, 'the order changed');
  await page.close();
});

test('text has at least 4.5:1 contrast with its background (3:1 when large)', async () => {
  const page = await openPage(QUERY);
  await page.evaluate(() => { document.querySelector('#chart-data').open = true; });
  const bad = await page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (e) => {
      for (let n = e; n; n = n.parentElement) {
        const c = rgb(getComputedStyle(n).backgroundColor);
        if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      const e = t.parentElement;
      if (!t.textContent.trim() || !e || e.closest('svg, option, [hidden]') || !e.getClientRects().length) continue;
      const st = getComputedStyle(e);
      if (st.visibility === 'hidden') continue;
      const [a, b] = [lum(rgb(st.color)), lum(background(e))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(st.fontSize); const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`"${t.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
    return out;
  });
  assert.deepEqual(bad, [], 'low-contrast text');
  await page.close();
});

// Which registered target the chart should draw, by the documented matching: same indicator,
// authority and selection (a target names its IoD edition; the trend's basis names the one used).
function matchingTarget(targets, indicator, authority, select, basis) {
  const editions = Object.keys(basis.datasets || {}).filter((d) => /^iod-\d{4}$/.test(d)).map((d) => d.slice(4));
  const forms = new Set([select, ...editions.map((y) => select.replace(/^imd-/, `imd${y}-`))]);
  return targets.find((t) => t.indicator === indicator && t.authority === authority && forms.has(t.selection)) || null;
}

async function checkChart(q, select) {
  const page = await openPage(q);
  const p = new URLSearchParams(q);
  const trendQuery = new URLSearchParams({ indicator: p.get('indicator'), authority: p.get('authority'), select });
  for (const k of ['ward_vintage', 'bridge_weights']) if (p.get(k)) trendQuery.set(k, p.get(k));
  const trend = await api('/api/v1/trend', trendQuery.toString());
  const targets = (await api('/api/v1/target-status', '')).rows;
  const target = matchingTarget(targets, p.get('indicator'), p.get('authority'), select, trend.basis);
  const rows = await page.$$eval('#trend-table tbody tr', (trs) => trs.map((tr) => ({
    period: tr.dataset.period,
    cells: Object.fromEntries([...tr.querySelectorAll('[data-field]')].map((c) => [c.dataset.field, { value: c.getAttribute('data-value'), text: c.textContent.trim() }])),
  })));
  assert.deepEqual(rows.map((r) => r.period), trend.rows.map((r) => r.period), 'one chart-table row per period');
  for (const [i, r] of trend.rows.entries()) {
    for (const f of ['gap', 'gap_lower_95', 'gap_upper_95']) {
      const c = rows[i].cells[f];
      if (r.withheld != null || r.suppressed === true || r.benchmark_withheld != null) assert.equal(c.text, 'withheld', `${r.period}.${f}`);
      else if (r[f] == null) assert.equal(c.value, null, `${r.period}.${f}`);
      else assert.ok(Math.abs(Number(c.value) - r[f]) <= EPS, `${r.period}.${f}: page ${c.value} vs API ${r[f]}`);
    }
  }
  const drawn = await page.locator('#chart svg .trajectory').count();
  assert.equal(drawn, target ? 1 : 0, target ? `the trajectory of target ${target.target}` : 'no trajectory without a matching target');
  // One point per released gap, none for a withheld period (and no line at all when every
  // period is withheld).
  const released = trend.rows.filter((r) => r.withheld == null && r.suppressed !== true && r.benchmark_withheld == null && r.gap != null);
  const points = await page.$$eval('#chart svg .gap-point', (cs) => cs.map((c) => c.dataset.period));
  assert.deepEqual(points, released.map((r) => r.period), 'a point for each released gap, none for a withheld one');
  assert.equal((await page.locator('#chart svg .gap-line').count()) > 0, released.length > 0, 'the gap line is drawn when a gap is released');
  assert.ok((await page.textContent('#chart-title')).length > 20, 'the chart has a text alternative');
  if (target) {
    // The straight line baseline_gap → target_gap, read at the baseline and latest periods,
    // must agree with the server's own baseline and expected gaps.
    const at = (per) => rows.find((r) => r.period === per)?.cells.trajectory.value;
    const b = at(target.baseline_period); const e = at(target.latest_period);
    if (b != null) assert.ok(Math.abs(Number(b) - target.baseline_gap) <= 1e-6, `trajectory at baseline ${b} vs ${target.baseline_gap}`);
    if (e != null && target.expected_gap != null) assert.ok(Math.abs(Number(e) - target.expected_gap) <= 1e-6, `trajectory at ${target.latest_period} ${e} vs expected ${target.expected_gap}`);
  }
  console.log(`# chart ${select}: ${rows.length} periods, ${released.length} released, target ${target ? target.target : 'none'}`);
  await page.close();
}

test('the chart equals the trend API for the deprived deciles, with a trajectory only when a target matches', async () => {
  await checkChart(QUERY, 'imd-decile<=2');
});

test('the chart for a chosen ward draws the registered target trajectory when there is one', async () => {
  const sel = new URLSearchParams(TARGET_QUERY).get('select');
  await checkChart(TARGET_QUERY, sel);
});

test('Enter on a ward of the map charts that ward, and the link reproduces the view', async () => {
  const page = await openPage(QUERY);
  const code = await page.getAttribute('#map path[data-code]', 'data-code');
  await page.focus(`#map path[data-code="${code}"]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`#chart[data-select="areas:${code}"]`, { timeout: 60000 });
  assert.equal(await page.getAttribute(`#map path[data-code="${code}"]`, 'aria-pressed'), 'true');
  assert.ok(await page.isChecked(`#ward-picks input[value="${code}"]`), 'its checkbox is ticked');
  const link = new URL(page.url());
  assert.equal(link.searchParams.get('select'), `areas:${code}`, `the link names the selection: ${page.url()}`);
  const p = new URLSearchParams(QUERY);
  const tq = new URLSearchParams({ indicator: p.get('indicator'), authority: p.get('authority'), select: `areas:${code}` });
  for (const k of ['ward_vintage', 'bridge_weights']) if (p.get(k)) tq.set(k, p.get(k));
  const trend = await api('/api/v1/trend', tq.toString());
  const gaps = await page.$$eval('#trend-table tbody tr', (trs) => trs.map((tr) => tr.querySelector('[data-field="gap"]').getAttribute('data-value')));
  assert.equal(gaps.length, trend.rows.length, 'one row per period');
  trend.rows.forEach((r, i) => {
    if (r.gap == null || r.withheld != null || r.suppressed === true || r.benchmark_withheld != null) assert.equal(gaps[i], null, `${r.period}: withheld`);
    else assert.ok(Math.abs(Number(gaps[i]) - r.gap) <= EPS, `${r.period}: page ${gaps[i]} vs API ${r.gap}`);
  });
  await page.close();
  const again = await openPage(link.search.slice(1));
  assert.equal(await again.getAttribute('#chart', 'data-select'), `areas:${code}`, 'the link opens the same selection');
  for (const k of ['authority', 'indicator', 'period']) assert.equal(await again.inputValue(`#${k}`), link.searchParams.get(k), k);
  await again.close();
});

test("a server error is shown to the user in the server's words", async () => {
  const q = QUERY.replace(/(^|&)ward_vintage=[^&]*/, '') + '&ward_vintage=WD00';
  const page = await openPage(q);
  const period = await page.inputValue('#period');
  const { status, body } = await apiJson('/api/v1/gap', `${withLevel(q)}&period=${encodeURIComponent(period)}`);
  assert.ok(status >= 400, `an unknown ward vintage is refused (got ${status})`);
  // The feed's error body: {"error": {"code": "FAILED_PRECONDITION", "message": "…"}}.
  assert.equal(typeof body?.error?.message, 'string', 'the refusal has a JSON error message');
  assert.equal((await page.textContent('#error')).trim(), body.error.message);
  assert.equal(await page.getAttribute('#error', 'role'), 'alert');
  await page.close();
});

test('at 375 px wide nothing scrolls sideways; the screenshots are saved', async () => {
  const phone = await openPage(QUERY, { width: 375, height: 812 });
  const widths = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(widths.scroll <= widths.client, `page is ${widths.scroll} px wide in a ${widths.client} px window`);
  await phone.screenshot({ path: join(OUT, 'dashboard-375.png'), fullPage: true });
  await phone.close();
  const page = await openPage(QUERY);
  // The whole page at a 1280x900 viewport: map, table, chart and footer.
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`# screenshots: ${SCREENSHOT}, ${join(OUT, 'dashboard-375.png')}`);
  assert.deepEqual(pageErrors, [], 'script errors');
  assert.deepEqual(foreign, [], 'requests to other origins');
  await page.close();
});
