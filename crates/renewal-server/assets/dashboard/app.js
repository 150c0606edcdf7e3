// Renewal's built-in dashboard: plain ES2020, no build step, nothing fetched from elsewhere.
// Everything it shows comes from the same-origin /api/v1 feed; a figure the feed withholds is
// shown as "withheld" and never coloured, drawn or sorted as a number.

const SVG = 'http://www.w3.org/2000/svg';
const $ = (sel) => document.querySelector(sel);

// The key lives only in this variable: taken from ?key= (then removed from the address bar so
// a copied link does not carry it) or from the password field.
let apiKey = '';
let indicators = [];
let authorities = [];
let gapRows = [];
let current = null; // the parameters of the view on screen
const picked = new Set(); // wards chosen for the chart
let sortState = { key: null, dir: 'ascending' };
let targetsCache = null;
let chartSeq = 0; let showSeq = 0; // answers that arrive after a newer request are dropped
let simplify = ''; // the map's simplify= from the link, passed through as given

const CATEGORIES = {
  better: 'Better than the authority',
  similar: 'Similar to the authority',
  worse: 'Worse than the authority',
  higher: 'Higher (no judgement)',
  lower: 'Lower (no judgement)',
  'not-compared': 'Not compared',
  withheld: 'Withheld (disclosure control)',
};

// ---------- talking to the feed ----------

async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const headers = { Accept: 'application/json' };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  const res = await fetch(`${path}${q.toString() ? `?${q}` : ''}`, { headers });
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (!res.ok) {
    // The feed's error body is {"error": {"code", "message"}}; the message is the server's words.
    const e = body && body.error;
    const msg = (e && typeof e.message === 'string' && e.message) || (typeof e === 'string' && e) || `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return body;
}

const rowsOf = (json) => (Array.isArray(json) ? json : (json && json.rows) || []);

function showError(msg) {
  const box = $('#error');
  box.hidden = !msg;
  box.textContent = msg || '';
}
const status = (msg) => { $('#status').textContent = msg; };

// ---------- formatting ----------

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const withheldRow = (r) => !!(r && (r.withheld || r.suppressed === true));

function fmt(v, { signed = false, digits = 2 } = {}) {
  if (!isNum(v)) return '—';
  const s = Math.abs(v).toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (Number(Math.abs(v).toFixed(digits)) === 0) return s; // no sign on a figure shown as zero
  if (v < 0) return `−${s}`;
  return signed && v > 0 ? `+${s}` : s;
}

function category(row) {
  if (withheldRow(row)) return 'withheld';
  const c = row.comparison_95;
  return c && CATEGORIES[c] && c !== 'withheld' ? c : 'not-compared';
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// Textured fills so that a category is told by pattern as well as by colour.
function patternDefs() {
  const defs = svg('defs');
  const mk = (id, bg, draw) => {
    const p = svg('pattern', { id, width: 8, height: 8, patternUnits: 'userSpaceOnUse' });
    p.append(svg('rect', { width: 8, height: 8, fill: bg }));
    if (draw) p.append(draw());
    defs.append(p);
  };
  mk('pat-better', '#1f5f99');
  mk('pat-similar', '#d9d9d9');
  mk('pat-worse', '#b8401a', () => svg('path', { d: 'M0 2h8M0 6h8', stroke: '#fff', 'stroke-width': 1.2 }));
  mk('pat-higher', '#6a3d9a', () => svg('path', { d: 'M2 0v8M6 0v8', stroke: '#fff', 'stroke-width': 1.2 }));
  mk('pat-lower', '#2f6b2f', () => svg('circle', { cx: 4, cy: 4, r: 1.5, fill: '#fff' }));
  mk('pat-not-compared', '#ffffff', () => svg('circle', { cx: 4, cy: 4, r: 1, fill: '#555' }));
  mk('pat-withheld', '#ffffff', () => svg('path', { d: 'M-2 2l4-4M0 8l8-8M6 10l4-4', stroke: '#333', 'stroke-width': 1.5 }));
  return defs;
}

function describe(row) {
  const name = `${row.area_name || row.area_code} (${row.area_code})`;
  if (withheldRow(row)) return `${name}: withheld (${row.withheld || 'suppressed'})`;
  const unit = row.unit ? ` ${row.unit}` : '';
  const ci = isNum(row.lower_95) && isNum(row.upper_95) ? `, 95% CI ${fmt(row.lower_95)} to ${fmt(row.upper_95)}` : '';
  return `${name}: ${fmt(row.value)}${unit}${ci}; ${CATEGORIES[category(row)].toLowerCase()}`;
}

// ---------- the map ----------

function rings(geom) {
  if (!geom) return [];
  if (geom.type === 'Polygon') return geom.coordinates;
  if (geom.type === 'MultiPolygon') return geom.coordinates.flat();
  return [];
}

function drawMap(fc) {
  const box = $('#map');
  box.replaceChildren();
  const features = (fc && fc.features) || [];
  const pts = features.flatMap((f) => rings(f.geometry).flat());
  if (!pts.length) { box.append(el('p', {}, 'No ward boundaries to draw.')); return; }
  const xs = pts.map((p) => p[0]); const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Longitude shrinks with latitude; projected (metre) coordinates need no correction.
  const kx = Math.abs(x1) <= 180 && Math.abs(y1) <= 90 ? Math.cos(((y0 + y1) / 2) * Math.PI / 180) : 1;
  const W = 600; const pad = 6;
  const s = (W - 2 * pad) / Math.max((x1 - x0) * kx, (y1 - y0) * 0.5, 1e-12);
  const H = Math.ceil((y1 - y0) * s + 2 * pad);
  const pxy = ([x, y]) => `${((x - x0) * kx * s + pad).toFixed(1)},${((y1 - y) * s + pad).toFixed(1)}`;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': `Map of ${features.length} wards` });
  root.append(patternDefs());
  for (const f of features) {
    const row = f.properties || {};
    const cat = category(row);
    const d = rings(f.geometry).map((r) => `M${r.map(pxy).join('L')}Z`).join('');
    const p = svg('path', { d, 'data-code': row.area_code, 'data-category': cat, class: `ward cat-${cat}`,
      fill: `url(#pat-${cat})`, tabindex: 0, role: 'button', 'aria-label': describe(row),
      'aria-pressed': String(picked.has(row.area_code)) });
    const t = svg('title'); t.textContent = describe(row); p.append(t);
    const toggle = () => { togglePick(row.area_code); };
    p.addEventListener('click', toggle);
    p.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } });
    root.append(p);
  }
  // A ring drawn last, so the focused ward's outline is never hidden under its neighbours.
  const ring = svg('path', { class: 'focus-ring', d: '', 'aria-hidden': 'true' });
  root.append(ring);
  root.addEventListener('focusin', (e) => { ring.setAttribute('d', e.target.getAttribute('d') || ''); });
  root.addEventListener('focusout', () => ring.setAttribute('d', ''));
  box.append(root);
}

function drawLegend(rows) {
  const present = new Set(rows.map(category));
  const cats = ['better', 'similar', 'worse', 'higher', 'lower', 'not-compared', 'withheld']
    .filter((c) => present.has(c) || ['better', 'similar', 'worse', 'not-compared', 'withheld'].includes(c));
  const ul = $('#legend'); ul.replaceChildren();
  for (const c of cats) {
    const li = el('li', { 'data-category': c });
    const sw = svg('svg', { width: 22, height: 16, 'aria-hidden': 'true' });
    sw.append(patternDefs(), svg('rect', { x: 1, y: 1, width: 20, height: 14, fill: `url(#pat-${c})`, stroke: '#222' }));
    const n = rows.filter((r) => category(r) === c).length;
    li.append(sw, document.createTextNode(` ${CATEGORIES[c]} (${n})`));
    ul.append(li);
  }
}

// ---------- the table ----------

const COLUMNS = [
  { key: 'area_name', label: 'Ward' },
  { key: 'value', label: 'Value', num: true },
  { key: 'lower_95', label: '95% CI low', num: true },
  { key: 'upper_95', label: '95% CI high', num: true },
  { key: 'gap', label: 'Gap', num: true, signed: true },
  { key: 'comparison_95', label: 'Comparison' },
  { key: 'rank_in_parent', label: 'Rank', num: true, digits: 0 },
];
const CAT_ORDER = ['worse', 'higher', 'similar', 'lower', 'better', 'not-compared', 'withheld'];

function buildHead() {
  const tr = $('#wards thead tr'); tr.replaceChildren();
  for (const c of COLUMNS) {
    const th = el('th', { scope: 'col', 'data-key': c.key, 'aria-sort': 'none' });
    const b = el('button', { type: 'button', class: 'sort', 'data-key': c.key }, c.label);
    b.addEventListener('click', () => sortBy(c.key));
    th.append(b); tr.append(th);
  }
}

function sortBy(key) {
  sortState = { key, dir: sortState.key === key && sortState.dir === 'ascending' ? 'descending' : 'ascending' };
  for (const th of document.querySelectorAll('#wards th')) {
    th.setAttribute('aria-sort', th.dataset.key === key ? sortState.dir : 'none');
  }
  drawTableBody();
}

function sortKey(row, key) {
  if (key === 'area_name') return (row.area_name || row.area_code || '').toLowerCase();
  if (key === 'comparison_95') return CAT_ORDER.indexOf(category(row));
  return withheldRow(row) || !isNum(row[key]) ? null : row[key];
}

function drawTableBody() {
  const rows = gapRows.slice();
  const { key, dir } = sortState;
  if (key) {
    const m = dir === 'ascending' ? 1 : -1;
    // Withheld and missing figures go last in either direction: they are not small numbers.
    rows.sort((a, b) => {
      const x = sortKey(a, key); const y = sortKey(b, key);
      if (x === null || y === null) return (x === null) - (y === null);
      return x < y ? -m : x > y ? m : 0;
    });
  }
  const tbody = $('#wards tbody'); tbody.replaceChildren();
  for (const r of rows) {
    const tr = el('tr', { 'data-code': r.area_code });
    const held = withheldRow(r);
    for (const c of COLUMNS) {
      let td;
      if (c.key === 'area_name') {
        td = el('th', { scope: 'row', 'data-field': c.key }, r.area_name || r.area_code);
        td.append(el('span', { class: 'code' }, ` ${r.area_code}`));
      } else if (c.key === 'comparison_95') {
        const cat = category(r);
        td = el('td', { 'data-field': c.key, 'data-category': cat }, cat === 'not-compared' && r.comparison_95 ? r.comparison_95 : cat);
      } else if (held) {
        td = el('td', { 'data-field': c.key, class: 'withheld' }, 'withheld');
      } else {
        td = el('td', { 'data-field': c.key, class: 'num' }, fmt(r[c.key], { signed: c.signed, digits: c.digits ?? 2 }));
        if (isNum(r[c.key])) td.setAttribute('data-value', String(r[c.key]));
        else td.setAttribute('aria-label', 'not available');
      }
      tr.append(td);
    }
    tbody.append(tr);
  }
}

// ---------- the footer ----------

function drawBasis(answer, extraNotes = []) {
  const b = (answer && answer.basis) || {};
  const body = $('#basis-body'); body.replaceChildren();
  const dl = el('dl');
  const add = (term, content) => { dl.append(el('dt', {}, term)); const dd = el('dd'); dd.append(content); dl.append(dd); };
  const list = (items) => { const ul = el('ul'); for (const i of items) ul.append(i); return ul; };
  const ds = Object.entries(b.datasets || {});
  add('Datasets', ds.length ? list(ds.map(([id, v]) => el('li', { 'data-dataset': id, 'data-version': String(v) }, `${id} version ${v}`))) : el('span', {}, 'none named'));
  if (current && current.ward_vintage) add('Ward vintage', el('span', {}, current.ward_vintage));
  const method = b.method && b.fit && !b.method.startsWith(b.fit) ? `${b.fit}: ${b.method}` : b.method || b.fit;
  add('Fit', el('span', { 'data-fit': b.fit || '' }, method || 'not stated'));
  const bridges = (b.bridges || []).map((x) => el('li', {}, `${x.dataset} moved ${x.from || '?'} → ${x.to || '?'} through ${x.bridge} v${x.version}`
    + `${isNum(x.apportioned_share) ? `; ${(x.apportioned_share * 100).toFixed(2)}% apportioned` : ''}${x.weights ? ` by ${x.weights}` : ''}`));
  if (bridges.length) add('Bridges', list(bridges));
  const notes = [...new Set([...(answer && answer.notes) || [], ...extraNotes])];
  add('Notes', notes.length ? list(notes.map((n) => el('li', {}, n))) : el('span', {}, 'none'));
  body.append(dl);
}

// ---------- the narrowing-the-gap chart ----------

function periodTimes(labels) {
  const fy = labels.length > 0 && labels.every((l) => /^\d{4}-\d{2}$/.test(l) && +l.slice(5) === (+l.slice(0, 4) + 1) % 100);
  const t = (l) => {
    let m;
    if (fy) return +l.slice(0, 4) + 0.75; // a financial year, April to March: its middle
    if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(l))) return (Date.UTC(+m[1], +m[2] - 1, +m[3]) - Date.UTC(+m[1], 0, 1)) / 31557600000 + +m[1];
    if ((m = /^(\d{4})-(\d{2})$/.exec(l))) return +m[1] + (+m[2] - 0.5) / 12;
    if ((m = /^(\d{4})$/.exec(l))) return +m[1] + 0.5;
    return NaN;
  };
  const out = new Map(labels.map((l) => [l, t(l)]));
  if ([...out.values()].some(Number.isNaN)) [...labels].sort().forEach((l, i) => out.set(l, i));
  return out;
}

function chosenSelection() {
  const mode = document.querySelector('input[name="sel"]:checked').value;
  if (mode === 'deciles') return 'imd-decile<=2';
  return picked.size ? `areas:${[...picked].sort().join(',')}` : null;
}

// A target's selection names its edition (imd2019-decile<=2); the plain form means the default
// edition, which the trend's basis names by its iod-YYYY dataset.
function sameSelection(target, asked, basis) {
  const norm = (s) => (s || '').replace(/\s+/g, '');
  const t = norm(target); const a = norm(asked);
  if (t === a) return true;
  if (t.startsWith('areas:') && a.startsWith('areas:')) return t.slice(6).split(',').sort().join() === a.slice(6).split(',').sort().join();
  const iod = Object.keys((basis && basis.datasets) || {}).filter((d) => /^iod-\d{4}$/.test(d));
  return iod.length === 1 && a.startsWith('imd-decile') && t === a.replace('imd-', `imd${iod[0].slice(4)}-`);
}

async function drawChart() {
  const box = $('#chart'); const notes = $('#chart-notes'); const tbody = $('#trend-table tbody');
  box.replaceChildren(); tbody.replaceChildren(); notes.replaceChildren();
  const select = chosenSelection();
  const seq = ++chartSeq;
  if (!current) return;
  writeLink();
  if (!select) { box.append(el('p', {}, 'Choose one or more wards (tick them below, or press Enter on a ward of the map).')); return; }
  let trend; let target = null;
  try {
    trend = await api('/api/v1/trend', { indicator: current.indicator, authority: current.authority, select,
      ward_vintage: current.ward_vintage, bridge_weights: current.bridge_weights });
  } catch (e) { if (seq === chartSeq) box.append(el('p', { class: 'error-inline' }, `No gap series: ${e.message}`)); return; }
  try {
    if (!targetsCache) targetsCache = rowsOf(await api('/api/v1/target-status'));
    target = targetsCache.find((t) => t.indicator === current.indicator && t.authority === current.authority
      && sameSelection(t.selection, select, trend.basis)) || null;
  } catch (_) { target = null; } // no target status is no reason to hide the series
  if (seq !== chartSeq) return;
  const rows = rowsOf(trend);
  const labels = rows.map((r) => r.period).concat(target ? [target.baseline_period, target.target_period] : []).filter(Boolean);
  const T = periodTimes(labels);
  const traj = (p) => {
    if (!target || !isNum(target.baseline_gap) || !isNum(target.target_gap)) return null;
    const [tb, tt, tp] = [T.get(target.baseline_period), T.get(target.target_period), T.get(p)];
    if (!(tp >= tb && tp <= tt) || tt === tb) return null;
    return target.baseline_gap + (target.target_gap - target.baseline_gap) * (tp - tb) / (tt - tb);
  };
  const ok = (r) => !withheldRow(r) && !r.benchmark_withheld && isNum(r.gap);
  const vals = rows.filter(ok).flatMap((r) => [r.gap, r.gap_lower_95, r.gap_upper_95]).filter(isNum)
    .concat(target ? [target.baseline_gap, target.target_gap].filter(isNum) : [], [0]);
  const xsAll = [...T.values()];
  const [tx0, tx1] = [Math.min(...xsAll), Math.max(...xsAll)];
  let [v0, v1] = [Math.min(...vals), Math.max(...vals)];
  if (v0 === v1) { v0 -= 1; v1 += 1; }
  // Round the axis out to a tidy step (1, 2, 2.5 or 5 times a power of ten).
  const mag = 10 ** Math.floor(Math.log10((v1 - v0) / 5));
  const stepV = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => (v1 - v0) / st <= 5);
  [v0, v1] = [Math.floor(v0 / stepV) * stepV, Math.ceil(v1 / stepV) * stepV];
  const W = 640; const H = 300; const L = 56; const R = 34; const Tp = 14; const B = 40;
  const X = (t) => L + (tx1 === tx0 ? 0.5 : (t - tx0) / (tx1 - tx0)) * (W - L - R);
  const Y = (v) => Tp + (v1 - v) / (v1 - v0) * (H - Tp - B);
  const unit = (rows[0] && rows[0].unit) || (target && target.unit) || (gapRows[0] && gapRows[0].unit) || '';
  const first = rows.find(ok); const last = [...rows].reverse().find(ok);
  const summary = first && last ? `Gap ${fmt(first.gap, { signed: true })} in ${first.period}, ${fmt(last.gap, { signed: true })} in ${last.period}${last.gap_trend ? ` (${last.gap_trend})` : ''}.` : 'No gap could be released for this selection.';
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title' });
  const title = svg('title', { id: 'chart-title' });
  title.textContent = `Gap between ${select} and the rest of the authority over time. ${summary}${target ? ` Target trajectory from ${target.baseline_period} to ${target.target_period}.` : ''}`;
  root.append(title);
  // Axes and ticks.
  for (let i = 0; v0 + i * stepV <= v1 + stepV / 1e6; i++) {
    const v = v0 + i * stepV;
    root.append(svg('line', { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: 'grid' }));
    const tx = svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }); tx.textContent = fmt(v, { digits: stepV < 1 ? 2 : stepV < 10 && stepV % 1 ? 1 : 0 });
    root.append(tx);
  }
  root.append(svg('line', { x1: L, x2: W - R, y1: Y(0), y2: Y(0), class: 'zero' }));
  // Period labels at least 64 px apart; the last one always shown, in place of a neighbour.
  const shown = [];
  for (const l of [...new Set(labels)].sort((a, b) => T.get(a) - T.get(b))) {
    if (!shown.length || X(T.get(l)) - X(T.get(shown[shown.length - 1])) >= 64) shown.push(l);
    else if (l === labels.slice().sort((a, b) => T.get(a) - T.get(b)).pop()) shown[shown.length - 1] = l;
  }
  if (shown.length > 1 && X(T.get(shown[shown.length - 1])) - X(T.get(shown[shown.length - 2])) < 64) shown.splice(-2, 1);
  for (const l of shown) {
    const tx = svg('text', { x: X(T.get(l)), y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }); tx.textContent = l;
    root.append(tx);
  }
  const yl = svg('text', { x: 12, y: Tp + (H - Tp - B) / 2, class: 'tick', transform: `rotate(-90 12 ${Tp + (H - Tp - B) / 2})`, 'text-anchor': 'middle' });
  yl.textContent = `gap${unit ? ` (${unit})` : ''}`; root.append(yl);
  // The CI band and the line are broken where a period is withheld, never bridged over it,
  // and where periods are missing (a jump of more than twice the usual step between them).
  const steps = rows.slice(1).map((r, i) => T.get(r.period) - T.get(rows[i].period)).sort((a, b) => a - b);
  const usual = steps.length ? steps[Math.floor(steps.length / 2)] : 0;
  const runs = []; let run = [];
  rows.forEach((r, i) => {
    const jump = i > 0 && usual > 0 && T.get(r.period) - T.get(rows[i - 1].period) > 2 * usual;
    if (jump && run.length) { runs.push(run); run = []; }
    if (ok(r)) run.push(r); else if (run.length) { runs.push(run); run = []; }
  });
  if (run.length) runs.push(run);
  for (const rr of runs) {
    const banded = rr.filter((r) => isNum(r.gap_lower_95) && isNum(r.gap_upper_95));
    if (banded.length) {
      const up = banded.map((r) => `${X(T.get(r.period))},${Y(r.gap_upper_95)}`);
      const lo = banded.slice().reverse().map((r) => `${X(T.get(r.period))},${Y(r.gap_lower_95)}`);
      root.append(svg('polygon', { points: up.concat(lo).join(' '), class: 'band' }));
    }
    root.append(svg('polyline', { points: rr.map((r) => `${X(T.get(r.period))},${Y(r.gap)}`).join(' '), class: 'gap-line' }));
  }
  for (const r of rows.filter(ok)) {
    const c = svg('circle', { cx: X(T.get(r.period)), cy: Y(r.gap), r: 3, class: 'gap-point', 'data-period': r.period });
    const t = svg('title'); t.textContent = `${r.period}: gap ${fmt(r.gap, { signed: true })}`; c.append(t); root.append(c);
  }
  if (target && isNum(target.baseline_gap) && isNum(target.target_gap)) {
    root.append(svg('line', { class: 'trajectory', x1: X(T.get(target.baseline_period)), y1: Y(target.baseline_gap),
      x2: X(T.get(target.target_period)), y2: Y(target.target_gap) }));
  }
  box.append(root);
  const key = el('p', { class: 'chart-key' });
  key.innerHTML = '<span class="k-line"></span> gap <span class="k-band"></span> 95% CI'
    + (target ? ' <span class="k-traj"></span> target trajectory' : '') + ' — above zero the selection is higher than the rest.';
  box.append(key);
  for (const r of rows) {
    const tr = el('tr', { 'data-period': r.period });
    tr.append(el('th', { scope: 'row' }, r.period));
    for (const k of ['gap', 'gap_lower_95', 'gap_upper_95']) {
      if (withheldRow(r) || r.benchmark_withheld) { tr.append(el('td', { 'data-field': k, class: 'withheld' }, 'withheld')); continue; }
      const td = el('td', { 'data-field': k, class: 'num' }, fmt(r[k], { signed: k === 'gap' }));
      if (isNum(r[k])) td.setAttribute('data-value', String(r[k]));
      tr.append(td);
    }
    const tj = traj(r.period);
    const tjc = el('td', { 'data-field': 'trajectory', class: 'num' }, tj === null ? '—' : fmt(tj, { signed: true }));
    if (tj !== null) tjc.setAttribute('data-value', String(tj));
    tr.append(tjc);
    tr.append(el('td', { 'data-field': 'comparison_95' }, withheldRow(r) ? 'withheld' : r.comparison_95 || '—'));
    tbody.append(tr);
  }
  const tnote = target ? `Target “${target.target}”: ${target.status || 'status unknown'}; gap ${fmt(target.baseline_gap, { signed: true })} in ${target.baseline_period}, `
    + `aim ${fmt(target.target_gap, { signed: true })} by ${target.target_period}; latest ${fmt(target.latest_gap, { signed: true })} in ${target.latest_period || '?'} `
    + `against ${fmt(target.expected_gap, { signed: true })} on the trajectory. ` : 'No registered target matches this indicator, authority and selection. ';
  // The target's baseline gap is the server's; if the series measures its gap another way
  // (against the rest of the authority, not the whole), say so rather than let the two lines
  // look comparable.
  const atBase = target && rows.find((r) => r.period === target.baseline_period);
  const differs = atBase && ok(atBase) && isNum(target.baseline_gap) && Math.abs(atBase.gap - target.baseline_gap) > 1e-9;
  const warn = differs ? `Caution: the target's baseline gap (${fmt(target.baseline_gap, { signed: true })}) is not this series' gap in ${target.baseline_period} `
    + `(${fmt(atBase.gap, { signed: true })}): the target status measures it on another basis. ` : '';
  notes.replaceChildren(...[summary, tnote + warn, ...(trend.notes || [])].filter((n) => n.trim()).map((n) => el('li', {}, n.trim())));
  notes.dataset.target = target ? target.target : '';
  box.dataset.select = select; // which selection is on screen, for the link and the test
}

// ---------- the controls ----------

function fillSelect(sel, items, chosen) {
  sel.replaceChildren(...items.map(([v, t]) => el('option', { value: v }, t)));
  if (items.some(([v]) => v === chosen)) sel.value = chosen;
}

function fillPeriods(chosen) {
  const a = authorities.find((x) => x.area_code === $('#authority').value);
  const ps = !a || !a.periods ? [] : Array.isArray(a.periods) ? a.periods.map(String) : String(a.periods).split(/\s+/).filter(Boolean);
  fillSelect($('#period'), ps.slice().reverse().map((p) => [p, p]), chosen);
}

async function loadAuthorities(chosenAuthority, chosenPeriod) {
  // The areas (and their periods) of the indicator as this view builds it: data on the other
  // LSOA vintage needs the same ward vintage and bridge weights as the gap question.
  const wardVintage = $('#ward_vintage').value || new URLSearchParams(location.search).get('ward_vintage') || '';
  authorities = rowsOf(await api('/api/v1/areas', { level: 'lad', indicator: $('#indicator').value,
    ward_vintage: wardVintage, bridge_weights: $('#bridge_weights').value.trim() }));
  fillSelect($('#authority'), authorities.map((a) => [a.area_code, `${a.area_name || a.area_code} (${a.area_code})`]), chosenAuthority);
  fillPeriods(chosenPeriod);
}

async function loadWardVintages(chosen) {
  let vs = [];
  try {
    // The ward vintages the warehouse's lookups offer (boundary sets list theirs too, but a
    // vintage without a lookup cannot be answered).
    vs = [...new Set(rowsOf(await api('/api/v1/vintages'))
      .filter((v) => v.kind === 'lookup' && v.ward_vintage)
      .map((v) => v.ward_vintage))].sort();
  } catch (_) { vs = []; } // the vintages catalogue refused (a key without it): the URL's choice only
  if (chosen && !vs.includes(chosen)) vs.push(chosen);
  fillSelect($('#ward_vintage'), [['', 'as the data fits'], ...vs.map((v) => [v, v])], chosen || '');
  $('#ward-vintage-label').hidden = vs.length < 1;
}

function togglePick(code) {
  if (picked.has(code)) picked.delete(code); else picked.add(code);
  for (const p of document.querySelectorAll('#map path[data-code]')) p.setAttribute('aria-pressed', String(picked.has(p.dataset.code)));
  const box = document.querySelector(`#ward-picks input[value="${CSS.escape(code)}"]`);
  if (box) box.checked = picked.has(code);
  document.querySelector('input[name="sel"][value="wards"]').checked = true;
  drawChart();
}

function drawPicks() {
  const box = $('#ward-picks'); box.replaceChildren();
  for (const r of gapRows) {
    const cb = el('input', { type: 'checkbox', value: r.area_code });
    cb.checked = picked.has(r.area_code);
    cb.addEventListener('change', () => togglePick(r.area_code));
    const l = el('label'); l.append(cb, document.createTextNode(` ${r.area_name || r.area_code}`));
    box.append(l);
  }
}

// The address bar reproduces the view (never the key).
function writeLink() {
  const link = new URLSearchParams(Object.entries(current).filter(([k, x]) => x && k !== 'level'));
  const sel = chosenSelection(); if (sel && sel !== 'imd-decile<=2') link.set('select', sel);
  if (simplify) link.set('simplify', simplify);
  history.replaceState(null, '', `?${link}`);
}

async function show() {
  document.body.dataset.state = 'loading';
  showError('');
  const v = (id) => $(`#${id}`).value.trim();
  current = { indicator: v('indicator'), authority: v('authority'), period: v('period'), level: 'ward',
    ward_vintage: v('ward_vintage'), bridge_weights: v('bridge_weights') };
  writeLink();
  status('Loading…');
  const seq = ++showSeq;
  const [gap, map] = await Promise.allSettled([api('/api/v1/gap', current), api('/api/v1/map', { ...current, simplify })]);
  if (seq !== showSeq) return;
  if (gap.status === 'rejected') {
    gapRows = []; drawTableBody(); $('#map').replaceChildren(); drawBasis(null);
    showError(gap.reason.message); status('');
    document.body.dataset.state = 'error';
    return;
  }
  gapRows = rowsOf(gap.value);
  const ind = indicators.find((i) => i.id === current.indicator);
  $('#wards-caption').textContent = `${ind ? ind.title : current.indicator}${gapRows[0] && gapRows[0].unit ? ` (${gapRows[0].unit})` : ''}, `
    + `${gapRows[0] ? gapRows[0].period : current.period}: wards against ${current.authority}; gap = ward − authority`;
  drawTableBody();
  drawLegend(gapRows);
  drawPicks();
  if (map.status === 'fulfilled') drawMap(map.value);
  else { $('#map').replaceChildren(el('p', { class: 'error-inline' }, `No map: ${map.reason.message}`)); }
  drawBasis(gap.value, map.status === 'fulfilled' ? map.value.notes || [] : []);
  status(`${gapRows.length} wards, ${gapRows.filter(withheldRow).length} withheld.`);
  await drawChart();
  document.body.dataset.state = 'ready';
}

// The catalogue (indicators, authorities and their periods, ward vintages), chosen as the
// link says where it can be. False when the feed refused (e.g. a key is needed).
async function loadCatalogue(params) {
  try {
    indicators = rowsOf(await api('/api/v1/indicators'));
    fillSelect($('#indicator'), indicators.map((i) => [i.id, i.title ? `${i.title}` : i.id]), params.get('indicator'));
    await Promise.all([loadAuthorities(params.get('authority'), params.get('period')), loadWardVintages(params.get('ward_vintage'))]);
    return true;
  } catch (e) {
    indicators = [];
    showError(e.message);
    document.body.dataset.state = 'error';
    return false;
  }
}

async function init() {
  const params = new URLSearchParams(location.search);
  if (params.has('key')) {
    apiKey = params.get('key') || '';
    params.delete('key');
    history.replaceState(null, '', `${location.pathname}${params.toString() ? `?${params}` : ''}`);
  }
  buildHead();
  $('#key').addEventListener('change', (e) => { apiKey = e.target.value; targetsCache = null; });
  $('#controls').addEventListener('submit', async (e) => {
    e.preventDefault();
    if ($('#key').value && $('#key').value !== apiKey) { apiKey = $('#key').value; targetsCache = null; }
    // Without a catalogue yet (the first load was refused), fetch it with the key just given.
    if (!indicators.length && !(await loadCatalogue(new URLSearchParams(location.search)))) return;
    show();
  });
  $('#indicator').addEventListener('change', () => loadAuthorities($('#authority').value).catch((e) => showError(e.message)));
  $('#authority').addEventListener('change', () => fillPeriods($('#period').value));
  for (const r of document.querySelectorAll('input[name="sel"]')) r.addEventListener('change', () => drawChart());
  const sel = params.get('select') || '';
  if (sel.startsWith('areas:')) { sel.slice(6).split(',').filter(Boolean).forEach((c) => picked.add(c)); document.querySelector('input[name="sel"][value="wards"]').checked = true; }
  $('#bridge_weights').value = params.get('bridge_weights') || '';
  simplify = params.get('simplify') || '';
  if (!(await loadCatalogue(params))) return;
  // A link naming an indicator or authority the catalogue lacks shows another view: say so.
  const stale = ['indicator', 'authority', 'period'].filter((k) => params.get(k) && $(`#${k}`).value !== params.get(k))
    .map((k) => `${k} "${params.get(k)}" is not in the catalogue; showing ${$(`#${k}`).value || 'nothing'} instead`);
  if ($('#authority').value && $('#indicator').value) await show();
  else { status('Choose an authority and an indicator.'); document.body.dataset.state = 'ready'; }
  if (stale.length && $('#error').hidden) showError(stale.join('. '));
}

init();
