// The report page: draws everything from the JSON embedded in #report-data (the same JSON
// as `maan report --json`). No library, no network: plain DOM and SVG.
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('report-data').textContent);
  var RUNS = DATA.runs;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var ERR_KEYS = ['true_positive', 'double_detection', 'wrong_label', 'localization', 'confusion', 'background'];
  var ERR_NAMES = ['True positive', 'Double detection', 'Wrong label', 'Localization', 'Confusion', 'Background'];
  var ERR_COLORS = ['#33a02c', '#b2df8a', '#1f78b4', '#fb9a99', '#e31a1c', '#a6cee3'];
  var RUN_COLORS = ['#1f5fbf', '#d9480f'];
  var LINE_COLORS = ['#1f5fbf', '#d9480f', '#2f9e44', '#7048e8', '#c2255c'];
  var CHAR_NAMES = { 'coverage': 'Coverage', 'length': 'Length', 'num-instances': 'Instances per video' };

  // ---------------------------------------------------------------- helpers
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    append(e, kids);
    return e;
  }
  function sv(tag, attrs, kids) {
    var e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    append(e, kids);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined) return;
      if (k === 'text') e.textContent = v;
      else if (k === 'on') Object.keys(v).forEach(function (ev) { e.addEventListener(ev, v[ev]); });
      else e.setAttribute(k, v);
    });
  }
  function append(e, kids) {
    if (kids === null || kids === undefined) return;
    if (!Array.isArray(kids)) kids = [kids];
    kids.forEach(function (k) {
      if (k === null || k === undefined || k === false) return;
      e.appendChild(typeof k === 'string' || typeof k === 'number' ? document.createTextNode(String(k)) : k);
    });
  }
  function title(text) { return sv('title', { text: text }); }
  function pct(v) { return v === null || v === undefined || isNaN(v) ? '–' : (v * 100).toFixed(2); }
  function num(v, d) { return v === null || v === undefined || isNaN(v) ? '–' : Number(v).toFixed(d); }
  function tiouLabel(t) { return String(Math.round(t * 100) / 100); }
  function mean(a) { var s = 0; a.forEach(function (x) { s += x; }); return a.length ? s / a.length : NaN; }
  function clamp(x, lo, hi) { return Math.max(lo, Math.min(hi, x)); }
  function niceStep(span, target) {
    var raw = span / Math.max(1, target);
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  // Low scores pale yellow, high scores dark purple (three viridis stops).
  function scoreColor(s) {
    var stops = [[253, 231, 37], [33, 145, 140], [68, 1, 84]];
    s = clamp(s, 0, 1) * 2;
    var i = Math.min(1, Math.floor(s)), f = s - i, a = stops[i], b = stops[i + 1];
    return 'rgb(' + [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); }).join(',') + ')';
  }
  function runsGrid(render) {
    var g = el('div', { class: 'runs', style: '--n:' + RUNS.length });
    RUNS.forEach(function (run, r) {
      var p = el('div', { class: 'panel', 'data-run': r });
      if (RUNS.length > 1) p.appendChild(el('h3', { text: run.name }));
      render(p, run, r);
      g.appendChild(p);
    });
    return g;
  }
  function section(id, heading, kids) {
    return el('section', { id: id }, [el('h2', { text: heading })].concat(kids));
  }

  // ---------------------------------------------------------------- charts
  // Bars: groups of labels, one or more series (stacked or side by side).
  function barChart(o) {
    var W = o.width || 520, H = o.height || 220, L = 50, R = 10, T = 14, B = o.bottom || 36;
    var n = o.labels.length, pw = W - L - R, ph = H - T - B;
    var ymax = o.yMax || 1;
    var s = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', class: o.cls || null });
    var y = function (v) { return T + ph * (1 - v / ymax); };
    var step = niceStep(ymax, 5);
    var grid = sv('g', { class: 'grid' });
    for (var v = 0; v <= ymax + 1e-9; v += step) {
      grid.appendChild(sv('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      s.appendChild(sv('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 10, text: o.yFormat ? o.yFormat(v) : String(Math.round(v * 100) / 100) }));
    }
    s.insertBefore(grid, s.firstChild);
    var gw = pw / Math.max(1, n), bw = o.stacked ? gw * 0.7 : gw * 0.8 / o.series.length;
    o.labels.forEach(function (lab, i) {
      var x0 = L + i * gw + (gw - (o.stacked ? bw : bw * o.series.length)) / 2, acc = 0;
      o.series.forEach(function (ser, k) {
        var v = ser.values[i];
        if (v === null || v === undefined || isNaN(v)) return;
        var x = o.stacked ? x0 : x0 + k * bw;
        var top = o.stacked ? acc + v : v, bottom = o.stacked ? acc : 0;
        var rect = sv('rect', { x: x, y: y(top), width: Math.max(0.5, bw - 1), height: Math.max(0, y(bottom) - y(top)), fill: ser.color, 'data-value': v, class: ser.cls || null },
          title((o.seriesTitle ? ser.name + ' · ' : '') + lab + ': ' + (o.valueFormat ? o.valueFormat(v) : v)));
        s.appendChild(rect);
        if (o.showValues) s.appendChild(sv('text', { x: x + bw / 2, y: y(top) - 3, 'text-anchor': 'middle', 'font-size': 9, text: o.valueFormat ? o.valueFormat(v) : String(v) }));
        acc += v;
      });
      s.appendChild(sv('text', { x: L + i * gw + gw / 2, y: H - B + 14, 'text-anchor': 'middle', 'font-size': 10, text: lab }));
      if (o.sublabels) s.appendChild(sv('text', { x: L + i * gw + gw / 2, y: H - B + 26, 'text-anchor': 'middle', 'font-size': 9, fill: '#667085', text: o.sublabels[i] }));
    });
    (o.groups || []).forEach(function (gr, gi) {
      var xa = L + gr.from * gw, xb = L + (gr.to + 1) * gw;
      s.appendChild(sv('text', { x: (xa + xb) / 2, y: H - 3, 'text-anchor': 'middle', 'font-size': 10, 'font-weight': 'bold', text: gr.name }));
      if (gi > 0) s.appendChild(sv('line', { x1: xa, x2: xa, y1: T, y2: H - 14, stroke: '#98a2b3', 'stroke-dasharray': '2 3' }));
    });
    if (o.baseline !== undefined && o.baseline !== null) {
      s.appendChild(sv('line', { x1: L, x2: W - R, y1: y(o.baseline), y2: y(o.baseline), stroke: '#111', 'stroke-dasharray': '5 4' }, title(o.baselineTitle || '')));
    }
    s.appendChild(sv('line', { x1: L, x2: W - R, y1: T + ph, y2: T + ph, stroke: '#98a2b3' }));
    if (o.yLabel) s.appendChild(sv('text', { x: 9, y: T + ph / 2, 'font-size': 10, transform: 'rotate(-90 9 ' + (T + ph / 2) + ')', 'text-anchor': 'middle', text: o.yLabel }));
    return s;
  }

  function lineChart(o) {
    var W = o.width || 520, H = o.height || 200, L = 50, R = 10, T = 10, B = 30;
    var pw = W - L - R, ph = H - T - B;
    var xs = [], ys = [];
    o.series.forEach(function (s) { s.points.forEach(function (p) { if (p[1] !== null) { xs.push(p[0]); ys.push(p[1]); } }); });
    var s = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    if (!xs.length) { s.appendChild(sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#667085', text: 'no data' })); return s; }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = o.yMin !== undefined ? o.yMin : Math.min.apply(null, ys), y1 = o.yMax !== undefined ? o.yMax : Math.max.apply(null, ys);
    if (x1 === x0) { x1 = x0 + 1; }
    if (y1 === y0) { y1 = y0 + 1; }
    var X = function (v) { return L + pw * (v - x0) / (x1 - x0); }, Y = function (v) { return T + ph * (1 - (v - y0) / (y1 - y0)); };
    var g = sv('g', { class: 'grid' }), ys_ = niceStep(y1 - y0, 4);
    for (var v = Math.ceil(y0 / ys_) * ys_; v <= y1 + 1e-12; v += ys_) {
      g.appendChild(sv('line', { x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
      s.appendChild(sv('text', { x: L - 4, y: Y(v) + 4, 'text-anchor': 'end', 'font-size': 10, text: o.yFormat ? o.yFormat(v) : (Math.round(v * 1000) / 1000) }));
    }
    var xs_ = niceStep(x1 - x0, 6);
    for (var u = Math.ceil(x0 / xs_) * xs_; u <= x1 + 1e-9; u += xs_) {
      s.appendChild(sv('text', { x: X(u), y: H - 12, 'text-anchor': 'middle', 'font-size': 10, text: String(Math.round(u * 100) / 100) }));
    }
    s.insertBefore(g, s.firstChild);
    o.series.forEach(function (ser) {
      var d = '', pen = false;
      ser.points.forEach(function (p) {
        if (p[1] === null || p[1] === undefined) { pen = false; return; }
        d += (pen ? 'L' : 'M') + X(p[0]).toFixed(1) + ' ' + Y(p[1]).toFixed(1);
        pen = true;
      });
      s.appendChild(sv('path', { d: d, fill: 'none', stroke: ser.color, 'stroke-width': 1.5, class: ser.cls || null }, title(ser.name)));
      if (ser.points.length <= 60) ser.points.forEach(function (p) {
        if (p[1] !== null) s.appendChild(sv('circle', { cx: X(p[0]), cy: Y(p[1]), r: 2.2, fill: ser.color }, title(ser.name + ' @ ' + p[0] + ': ' + (o.yFormat ? o.yFormat(p[1]) : p[1]))));
      });
    });
    s.appendChild(sv('text', { x: L + pw / 2, y: H - 1, 'text-anchor': 'middle', 'font-size': 10, fill: '#667085', text: o.xLabel || '' }));
    return s;
  }

  function legend(items) {
    return el('div', { class: 'legend' }, items.map(function (it) {
      return el('span', null, [el('span', { class: 'sw', style: 'background:' + it[1] }), it[0]]);
    }));
  }

  // ---------------------------------------------------------------- sections
  function header() {
    var names = RUNS.map(function (r) { return r.name; }).join(' vs ');
    document.title = 'maan report: ' + names;
    var h = el('header', { class: 'top' }, [
      el('h1', { text: (RUNS.length > 1 ? 'Comparison: ' : 'Run ') + names }),
      el('div', { class: 'sub', text: 'made ' + DATA.generated + ' by ' + DATA.generator + ' · ' + RUNS.map(function (r) { return r.videos.length + ' videos'; }).join(' / ') })
    ]);
    RUNS.forEach(function (r) {
      r.warnings.forEach(function (w) { h.appendChild(el('div', { class: 'warn', text: (RUNS.length > 1 ? r.name + ': ' : '') + 'warning: ' + w })); });
    });
    return h;
  }

  function toc() {
    var items = [['protocol', 'Protocol'], ['map', 'mAP'], ['curves', 'Training'], ['diagnosis', 'Diagnosis (DETAD)'], ['viewer', 'Videos']];
    return el('nav', { class: 'toc' }, items.map(function (i) { return el('a', { href: '#' + i[0], text: i[1] }); }));
  }

  function protocolSection() {
    var rows = [['commit', 'commit'], ['benchmark', 'benchmark'], ['data', 'data'], ['backend', 'backend'], ['localization', 'localization'], ['seed', 'seed']];
    var tbl = el('table', { id: 'protocol-table' });
    tbl.appendChild(el('thead', null, el('tr', null, [el('th', { text: '' })].concat(RUNS.map(function (r) { return el('th', { text: r.name }); })))));
    var body = el('tbody');
    rows.forEach(function (row) {
      body.appendChild(el('tr', null, [el('td', { text: row[1] })].concat(RUNS.map(function (r, i) {
        var v = r.protocol[row[0]];
        return el('td', { 'data-run': i, 'data-field': row[0], style: 'text-align:left;white-space:normal', text: v === null || v === undefined ? '–' : String(v) });
      }))));
    });
    var whats = [];
    RUNS.forEach(function (r) { r.protocol.dates.forEach(function (d) { if (whats.indexOf(d.what) < 0) whats.push(d.what); }); });
    whats.forEach(function (w) {
      body.appendChild(el('tr', null, [el('td', { text: w })].concat(RUNS.map(function (r) {
        var d = r.protocol.dates.filter(function (x) { return x.what === w; })[0];
        return el('td', { style: 'text-align:left', text: d ? d.when : '–' });
      }))));
    });
    tbl.appendChild(body);
    var cfg = runsGrid(function (p, run) {
      p.appendChild(el('details', null, [el('summary', { text: 'config.json' }), el('pre', { class: 'config', text: JSON.stringify(run.protocol.config, null, 2) })]));
    });
    return section('protocol', 'Protocol', [el('div', { class: 'scroll' }, tbl), cfg]);
  }

  function mapSection() {
    var first = RUNS.filter(function (r) { return r.metrics; })[0];
    if (!first) return section('map', 'Detection mAP', [el('p', { class: 'note', text: 'No ground truth: no mAP.' })]);
    var tious = first.metrics.tiou_thresholds;
    var ranges = first.metrics.averages.map(function (a) { return tiouLabel(a.from) + ':' + tiouLabel(a.to); });
    var head = [el('th', { text: 'mAP (%) at tIoU' })].concat(tious.map(function (t) { return el('th', { text: tiouLabel(t) }); }))
      .concat(ranges.map(function (r) { return el('th', { text: 'avg ' + r }); }))
      .concat([el('th', { text: 'avg' }), el('th', { text: 'cls-mAP' })]);
    var tbl = el('table', { id: 'map-table' }, el('thead', null, el('tr', null, head)));
    var body = el('tbody');
    function cell(r, metric, v, extra) {
      var a = { 'data-run': r, 'data-metric': metric, 'data-value': v === null || v === undefined ? '' : String(v), text: pct(v) };
      Object.keys(extra || {}).forEach(function (k) { a[k] = extra[k]; });
      return el('td', a);
    }
    RUNS.forEach(function (run, r) {
      var m = run.metrics;
      if (!m) { body.appendChild(el('tr', null, [el('td', { text: run.name }), el('td', { colspan: tious.length + ranges.length + 2, text: 'no mAP' })])); return; }
      var cells = [el('td', { text: run.name })];
      m.map.forEach(function (v, i) { cells.push(cell(r, 'map', v, { 'data-tiou': tiouLabel(m.tiou_thresholds[i]) })); });
      ranges.forEach(function (rg) {
        var a = m.averages.filter(function (x) { return tiouLabel(x.from) + ':' + tiouLabel(x.to) === rg; })[0];
        cells.push(cell(r, 'avg', a ? a.map : null, { 'data-range': rg }));
      });
      cells.push(cell(r, 'average_map', m.average_map));
      cells.push(cell(r, 'classification_map', m.classification_map));
      body.appendChild(el('tr', { 'data-run': r }, cells));
    });
    if (RUNS.length === 2 && RUNS[0].metrics && RUNS[1].metrics) {
      var a = RUNS[0].metrics, b = RUNS[1].metrics, cells = [el('td', { text: 'Δ (second − first)' })];
      var d = function (x, y) { return x === null || y === null || x === undefined || y === undefined ? null : y - x; };
      var dc = function (v) { return el('td', { class: v > 0 ? 'pos' : v < 0 ? 'neg' : null, text: v === null ? '–' : (v >= 0 ? '+' : '') + pct(v) }); };
      a.map.forEach(function (v, i) { cells.push(dc(d(v, b.map[i]))); });
      ranges.forEach(function (rg) {
        var f = function (m) { var x = m.averages.filter(function (q) { return tiouLabel(q.from) + ':' + tiouLabel(q.to) === rg; })[0]; return x ? x.map : null; };
        cells.push(dc(d(f(a), f(b))));
      });
      cells.push(dc(d(a.average_map, b.average_map)));
      cells.push(dc(d(a.classification_map, b.classification_map)));
      body.appendChild(el('tr', null, cells));
    }
    tbl.appendChild(body);
    var perClass = runsGrid(function (p, run, r) {
      var m = run.metrics;
      if (!m) { p.appendChild(el('p', { class: 'note', text: 'no mAP' })); return; }
      p.appendChild(el('h3', { text: 'AP per class (%), lowest mean first' }));
      var t = el('table', { class: 'class-table', 'data-run': r });
      t.appendChild(el('thead', null, el('tr', null, [el('th', { text: 'class' }), el('th', { text: '#GT' })]
        .concat(m.tiou_thresholds.map(function (x) { return el('th', { text: tiouLabel(x) }); }))
        .concat([el('th', { text: 'mean' }), el('th', { text: '' })]))));
      var b = el('tbody');
      m.per_class.slice().sort(function (x, y) { return mean(x.ap) - mean(y.ap); }).forEach(function (c) {
        var mu = mean(c.ap);
        b.appendChild(el('tr', { 'data-class': c.class }, [el('td', { text: c.class }), el('td', { text: c.instances })]
          .concat(c.ap.map(function (v, i) { return el('td', { 'data-run': r, 'data-metric': 'class_ap', 'data-class': c.class, 'data-tiou': tiouLabel(m.tiou_thresholds[i]), 'data-value': v, text: pct(v) }); }))
          .concat([el('td', { text: pct(mu) }), el('td', null, el('span', { class: 'bar', style: 'width:' + Math.round(80 * mu) + 'px' }))])));
      });
      t.appendChild(b);
      p.appendChild(el('div', { class: 'scroll' }, t));
    });
    return section('map', 'Detection mAP', [el('div', { class: 'scroll' }, tbl), perClass]);
  }

  function curvesSection() {
    var g = runsGrid(function (panel, run) {
      var c = run.curves;
      var grid = el('div', { class: 'charts' }), p = el('div');
      panel.appendChild(grid);
      grid.appendChild(p);
      p.appendChild(el('h3', { text: 'Loss' }));
      if (!c.loss.length) p.appendChild(el('p', { class: 'note', text: 'no loss logged (metrics.jsonl)' }));
      else {
        var series = c.loss_names.map(function (n, k) {
          return { name: n, color: LINE_COLORS[k % LINE_COLORS.length], points: c.loss.map(function (q) { return [q.iteration, q.values[k] === undefined ? null : q.values[k]]; }) };
        });
        p.appendChild(legend(series.map(function (s) { return [s.name, s.color]; })));
        p.appendChild(lineChart({ series: series, xLabel: 'iteration', yMin: 0 }));
      }
      p = el('div');
      grid.appendChild(p);
      p.appendChild(el('h3', { text: 'mAP during training (%)' }));
      if (!c.evaluations.length) p.appendChild(el('p', { class: 'note', text: 'no evaluation logged' }));
      else {
        var ev = [{ name: 'average mAP', color: LINE_COLORS[0], points: c.evaluations.map(function (e) { return [e.iteration, e.average_map]; }) },
          { name: 'classification mAP', color: LINE_COLORS[2], points: c.evaluations.map(function (e) { return [e.iteration, e.classification_map]; }) }];
        var i5 = c.tiou_thresholds.findIndex(function (t) { return Math.abs(t - 0.5) < 1e-9; });
        if (i5 >= 0) ev.push({ name: 'mAP@0.5', color: LINE_COLORS[1], points: c.evaluations.map(function (e) { return [e.iteration, e.map[i5] === undefined ? null : e.map[i5]]; }) });
        p.appendChild(legend(ev.map(function (s) { return [s.name, s.color]; })));
        p.appendChild(lineChart({ series: ev, xLabel: 'iteration', yMin: 0, yMax: 1, yFormat: function (v) { return (v * 100).toFixed(0); } }));
      }
    });
    return section('curves', 'Training curves', [g]);
  }

  function diagnosisSection() {
    var g = runsGrid(function (p, run, r) {
      var d = run.diagnosis;
      if (!d) { p.appendChild(el('p', { class: 'note', text: 'No ground truth or no detection: no diagnosis.' })); return; }
      var fp = d.false_positive;
      var panel = p, grid = el('div', { class: 'charts' });
      var cell = function () { var c = el('div'); grid.appendChild(c); return c; };
      panel.appendChild(el('p', { class: 'note', text: 'tIoU ' + d.settings.tiou_thresholds.map(tiouLabel).join(', ') + '; ' + d.instances + ' instances of ' + d.classes + ' classes (N = ' + num(d.average_instances_per_class, 2) + ' per class); ' + d.detections + ' detections; normalized average mAP ' + pct(d.average_map_n) + ' %' }));
      panel.appendChild(grid);
      p = cell();
      p.appendChild(el('h3', { text: 'False-positive profile (top ' + d.settings.limit_factor + 'G per class: ' + fp.detections + ' detections)' }));
      p.appendChild(legend(ERR_NAMES.map(function (n, i) { return [n, ERR_COLORS[i]]; })));
      p.appendChild(barChart({
        cls: 'fp-profile', labels: fp.profile.map(function (b) { return b.label; }), stacked: true, yMax: 1, seriesTitle: true,
        sublabels: fp.profile.map(function (b) { return b.detections; }),
        series: ERR_KEYS.map(function (k, i) { return { name: ERR_NAMES[i], color: ERR_COLORS[i], values: fp.profile.map(function (b) { return b.fractions ? b.fractions[k] : null; }) }; }),
        yFormat: function (v) { return (v * 100).toFixed(0) + '%'; }, valueFormat: function (v) { return (v * 100).toFixed(1) + ' %'; }, yLabel: 'share of detections'
      }));
      var gains = ERR_KEYS.slice(1).map(function (k) { return fp.map_gain[k]; });
      p = cell();
      p.appendChild(el('h3', { text: 'Average-mAP_N gain from removing each error type (points)' }));
      p.appendChild(barChart({
        cls: 'fp-gain', labels: ERR_NAMES.slice(1), height: 190, showValues: true,
        yMax: Math.max(0.01, Math.max.apply(null, gains.map(function (x) { return Math.abs(x); })) * 1.2),
        series: [{ name: 'gain', color: '#1f78b4', values: gains }],
        yFormat: function (v) { return (v * 100).toFixed(1); }, valueFormat: function (v) { return (v * 100).toFixed(2); }
      }));
      var sensLabels = [], sensVals = [], fnVals = [], subs = [], groups = [];
      d.characteristics.forEach(function (c) {
        var from = sensLabels.length;
        c.buckets.forEach(function (b) {
          sensLabels.push(b.label); subs.push(b.instances);
          sensVals.push(b.average_map_n); fnVals.push(b.false_negative_rate);
        });
        groups.push({ name: c.characteristic === 'num-instances' ? 'instances' : c.characteristic, from: from, to: sensLabels.length - 1 });
      });
      p = cell();
      p.appendChild(el('h3', { text: 'Sensitivity: average-mAP_N (%) by ' + d.characteristics.map(function (c) { return (CHAR_NAMES[c.characteristic] || c.characteristic).toLowerCase(); }).join(', ') + ' (dashed: all instances; below each bucket, its instances)' }));
      p.appendChild(barChart({
        cls: 'sensitivity', labels: sensLabels, sublabels: subs, groups: groups, bottom: 44, showValues: true, yMax: 1, baseline: d.average_map_n, baselineTitle: 'all instances: ' + pct(d.average_map_n) + ' %',
        series: [{ name: 'average-mAP_N', color: '#386cb0', values: sensVals }],
        yFormat: function (v) { return (v * 100).toFixed(0); }, valueFormat: function (v) { return (v * 100).toFixed(1); }
      }));
      p = cell();
      p.appendChild(el('h3', { text: 'False-negative rate (%) by the same buckets' }));
      p.appendChild(barChart({
        cls: 'false-negative', labels: sensLabels, sublabels: subs, groups: groups, bottom: 44, showValues: true, yMax: 1,
        series: [{ name: 'false negatives', color: '#f0027f', values: fnVals }],
        yFormat: function (v) { return (v * 100).toFixed(0); }, valueFormat: function (v) { return (v * 100).toFixed(1); }
      }));
      var t = el('table', { class: 'bucket-table', 'data-run': r }, el('thead', null, el('tr', null, ['characteristic', 'bucket', 'range', '#GT', 'avg-mAP_N %', 'FN %'].map(function (h) { return el('th', { text: h }); }))));
      var tb = el('tbody');
      d.characteristics.forEach(function (c) {
        c.buckets.forEach(function (b) {
          tb.appendChild(el('tr', null, [el('td', { text: CHAR_NAMES[c.characteristic] || c.characteristic }), el('td', { text: b.label }),
            el('td', { text: (b.lower) + ' – ' + (b.upper === null ? '∞' : b.upper) }), el('td', { text: b.instances }),
            el('td', { 'data-value': b.average_map_n === null ? '' : b.average_map_n, text: pct(b.average_map_n) }), el('td', { 'data-value': b.false_negative_rate === null ? '' : b.false_negative_rate, text: pct(b.false_negative_rate) })]));
        });
      });
      t.appendChild(tb);
      panel.appendChild(el('details', null, [el('summary', { text: 'numbers' }), t]));
      d.warnings.forEach(function (w) { panel.appendChild(el('div', { class: 'warn', text: w })); });
    });
    return section('diagnosis', 'Diagnosis (DETAD: false positives, sensitivity, false negatives)', [
      el('p', { class: 'note', text: 'As DETAD (Alwassel et al., ECCV 2018) computes them: normalized AP; bar kG holds the detections ranked (k−1)G+1…kG in their class; a bucket\u2019s mAP counts only its instances.' }), g]);
  }

  // ---------------------------------------------------------------- viewer
  var state = { video: null, cls: null, zoom: 1, pan: 0 };
  var videoIds = [];
  var byRun = RUNS.map(function (run) {
    var m = {};
    run.videos.forEach(function (v) { m[v.id] = v; });
    return m;
  });
  RUNS.forEach(function (run) { run.videos.forEach(function (v) { if (videoIds.indexOf(v.id) < 0) videoIds.push(v.id); }); });
  videoIds.sort();
  var classNames = RUNS.length ? RUNS[0].classes.slice() : [];
  RUNS.slice(1).forEach(function (run) { run.classes.forEach(function (c) { if (classNames.indexOf(c) < 0) classNames.push(c); }); });

  function classesIn(id) {
    var out = [];
    RUNS.forEach(function (run, r) {
      var v = byRun[r][id];
      if (!v) return;
      v.ground_truth.forEach(function (m) { var n = run.classes[m[0]]; if (n !== undefined && out.indexOf(n) < 0) out.push(n); });
    });
    RUNS.forEach(function (run, r) {
      var v = byRun[r][id];
      if (!v) return;
      v.detections.forEach(function (m) { var n = run.classes[m[0]]; if (n !== undefined && out.indexOf(n) < 0) out.push(n); });
    });
    return out;
  }

  function viewerSection() {
    var vs = el('select', { id: 'video-select' });
    videoIds.forEach(function (id) {
      var v = byRun[0][id] || byRun[1][id];
      vs.appendChild(el('option', { value: id, text: id + '  (' + v.ground_truth.length + ' GT, ' + v.detections_total + ' det)' }));
    });
    var cs = el('select', { id: 'class-select' });
    var zs = el('select', { id: 'zoom-select' }, [1, 2, 4, 8, 16, 32, 64].map(function (z) { return el('option', { value: z, text: z + '×' }); }));
    var pan = el('input', { id: 'pan', type: 'range', min: 0, max: 1000, value: 0, style: 'width:220px' });
    var prev = el('button', { id: 'prev-video', type: 'button', text: '◀' }), next = el('button', { id: 'next-video', type: 'button', text: '▶' });
    var controls = el('div', { class: 'controls' }, [
      el('label', null, ['video ', vs]), prev, next, el('label', null, ['class ', cs]), el('label', null, ['zoom ', zs]), el('label', null, ['pan ', pan])
    ]);
    var scale = el('div', { class: 'legend' }, ['detection score: 0 ', el('span', { class: 'sw', style: 'width:120px;background:linear-gradient(90deg,' + [0, 0.25, 0.5, 0.75, 1].map(scoreColor).join(',') + ')' }), ' 1',
      el('span', null, [el('span', { class: 'sw', style: 'background:#1f5fbf' }), 'ground truth of the class']), el('span', null, [el('span', { class: 'sw', style: 'background:#98a2b3' }), 'other classes']),
      el('span', null, [el('span', { class: 'sw', style: 'background:#1f5fbf;height:3px' }), 'CAS']), el('span', null, [el('span', { class: 'sw', style: 'background:#e8590c;height:3px' }), 'attention'])]);
    var holder = el('div', { id: 'timelines' });
    var sec = section('viewer', 'Videos: ground truth, detections, CAS and attention', [controls, scale, holder]);

    function fillClasses() {
      var inVideo = classesIn(state.video);
      cs.innerHTML = '';
      var g1 = el('optgroup', { label: 'in this video' }), g2 = el('optgroup', { label: 'other classes' });
      inVideo.forEach(function (c) { g1.appendChild(el('option', { value: c, text: c })); });
      classNames.forEach(function (c) { if (inVideo.indexOf(c) < 0) g2.appendChild(el('option', { value: c, text: c })); });
      if (inVideo.length) cs.appendChild(g1);
      cs.appendChild(g2);
      if (state.cls === null || inVideo.indexOf(state.cls) < 0) state.cls = inVideo.length ? inVideo[0] : (state.cls || classNames[0]);
      cs.value = state.cls;
    }
    function setVideo(id) {
      state.video = id; vs.value = id; state.zoom = 1; state.pan = 0; zs.value = '1'; pan.value = 0;
      fillClasses(); draw();
    }
    vs.addEventListener('change', function () { setVideo(vs.value); });
    prev.addEventListener('click', function () { var i = videoIds.indexOf(state.video); if (i > 0) setVideo(videoIds[i - 1]); });
    next.addEventListener('click', function () { var i = videoIds.indexOf(state.video); if (i < videoIds.length - 1) setVideo(videoIds[i + 1]); });
    cs.addEventListener('change', function () { state.cls = cs.value; draw(); });
    zs.addEventListener('change', function () { state.zoom = Number(zs.value); draw(); });
    pan.addEventListener('input', function () { state.pan = Number(pan.value) / 1000; draw(); });

    function draw() {
      holder.innerHTML = '';
      var duration = 0;
      RUNS.forEach(function (run, r) { var v = byRun[r][state.video]; if (v) duration = Math.max(duration, v.duration); });
      duration = duration || 1;
      var span = duration / state.zoom, t0 = (duration - span) * state.pan, t1 = t0 + span;
      var grid = runsGrid(function (p, run, r) {
        var v = byRun[r][state.video];
        if (!v) { p.appendChild(el('p', { class: 'note', text: 'this run has no video ' + state.video })); return; }
        p.appendChild(timeline(run, r, v, t0, t1));
        p.appendChild(details(run, r, v));
      });
      holder.appendChild(grid);
    }

    function timeline(run, r, v, t0, t1) {
      var W = 1000, L = 40, R = 10, H = 250, pw = W - L - R;
      var X = function (t) { return L + pw * (t - t0) / (t1 - t0); };
      var k = run.classes.indexOf(state.cls);
      var s = sv('svg', { class: 'timeline', id: 'timeline-' + r, 'data-run': r, 'data-video': v.id, 'data-class': state.cls, viewBox: '0 0 ' + W + ' ' + H });
      var clipId = 'clip-' + r;
      s.appendChild(sv('defs', null, sv('clipPath', { id: clipId }, sv('rect', { x: L, y: 0, width: pw, height: H }))));
      var body = sv('g', { 'clip-path': 'url(#' + clipId + ')' });
      s.appendChild(sv('text', { x: 2, y: 30, 'font-size': 10, text: 'GT' }));
      s.appendChild(sv('text', { x: 2, y: 62, 'font-size': 10, text: 'det' }));
      var gtG = sv('g', { class: 'gt-lane' });
      v.ground_truth.forEach(function (m, i) {
        var sel = m[0] === k, name = run.classes[m[0]] || '?';
        gtG.appendChild(sv('rect', { class: 'gt-mark' + (sel ? ' sel' : ''), 'data-index': i, 'data-class': name, x: X(m[1]), y: sel ? 16 : 22, width: Math.max(1, X(m[2]) - X(m[1])), height: sel ? 22 : 10 },
          title(name + ': ' + num(m[1], 2) + ' – ' + num(m[2], 2) + ' s')));
      });
      body.appendChild(gtG);
      var detG = sv('g', { class: 'det-lane' });
      var dets = v.detections.filter(function (d) { return d[0] === k; }).sort(function (a, b) { return a[3] - b[3]; });
      dets.forEach(function (d) {
        detG.appendChild(sv('rect', { class: 'det-mark', x: X(d[1]), y: 48, width: Math.max(1, X(d[2]) - X(d[1])), height: 20, fill: scoreColor(d[3]), 'fill-opacity': 0.85, stroke: '#fff', 'stroke-width': 0.5, 'data-score': d[3] },
          title(state.cls + ' ' + num(d[3], 4) + ': ' + num(d[1], 2) + ' – ' + num(d[2], 2) + ' s')));
      });
      body.appendChild(detG);
      // CAS and attention: y in [0, 1] over 80..220.
      var Y = function (q) { return 220 - 140 * q; };
      var grid = sv('g', { class: 'grid' });
      [0, 0.25, 0.5, 0.75, 1].forEach(function (q) {
        grid.appendChild(sv('line', { x1: L, x2: W - R, y1: Y(q), y2: Y(q) }));
        s.appendChild(sv('text', { x: L - 4, y: Y(q) + 3, 'text-anchor': 'end', 'font-size': 9, text: q }));
      });
      s.insertBefore(grid, s.firstChild.nextSibling);
      function path(values, cls) {
        var d = '', dt = v.seconds_per_snippet;
        var i0 = Math.max(0, Math.floor(t0 / dt) - 1), i1 = Math.min(values.length, Math.ceil(t1 / dt) + 1);
        for (var i = i0; i < i1; i++) d += (i === i0 ? 'M' : 'L') + X((i + 0.5) * dt).toFixed(1) + ' ' + Y(values[i] / 1000).toFixed(1);
        return sv('path', { class: cls, d: d || 'M0 0' });
      }
      var track = v.cas.filter(function (t) { return t.class === k; })[0];
      if (track) body.appendChild(path(track.permille, 'cas-line'));
      else s.appendChild(sv('text', { class: 'no-cas', x: L + 8, y: 150, 'font-size': 11, fill: '#667085', text: v.cas.length ? 'CAS of ' + state.cls + ' not kept for this video (only its ' + v.cas.length + ' main classes)' : 'no CAS for this video' }));
      if (v.attention) body.appendChild(path(v.attention, 'att-line'));
      s.appendChild(body);
      // Time axis.
      var ax = sv('g', { class: 'axis' });
      ax.appendChild(sv('line', { x1: L, x2: W - R, y1: 226, y2: 226 }));
      var step = niceStep(t1 - t0, 10);
      for (var t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
        ax.appendChild(sv('line', { x1: X(t), x2: X(t), y1: 226, y2: 230 }));
        ax.appendChild(sv('text', { x: X(t), y: 242, 'text-anchor': 'middle', 'font-size': 10, text: (Math.round(t * 100) / 100) + ' s' }));
      }
      s.appendChild(ax);
      s.addEventListener('wheel', function (e) {
        e.preventDefault();
        var z = clamp(state.zoom * (e.deltaY < 0 ? 2 : 0.5), 1, 64);
        if (z === state.zoom) return;
        var box = s.getBoundingClientRect(), frac = clamp((e.clientX - box.left) / box.width * W, L, W - R);
        var tc = t0 + (frac - L) / pw * (t1 - t0), dur = (t1 - t0) * state.zoom, nspan = dur / z;
        state.zoom = z; zs.value = String(z);
        state.pan = dur - nspan > 0 ? clamp((tc - nspan / 2) / (dur - nspan), 0, 1) : 0;
        pan.value = Math.round(state.pan * 1000);
        draw();
      }, { passive: false });
      return s;
    }

    function details(run, r, v) {
      var k = run.classes.indexOf(state.cls);
      var gts = v.ground_truth.filter(function (m) { return m[0] === k; });
      var dets = v.detections.filter(function (d) { return d[0] === k; }).slice(0, 10);
      var iou = function (a, b) { var i = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[1], b[1])); var u = (a[2] - a[1]) + (b[2] - b[1]) - i; return u > 0 ? i / u : 0; };
      var t = el('table', { class: 'video-table' }, el('thead', null, el('tr', null, ['', 'start (s)', 'end (s)', 'score', 'best tIoU with GT'].map(function (h) { return el('th', { text: h }); }))));
      var b = el('tbody');
      gts.forEach(function (m) { b.appendChild(el('tr', { class: 'gt-row' }, [el('td', { text: 'ground truth' }), el('td', { text: num(m[1], 2) }), el('td', { text: num(m[2], 2) }), el('td', { text: '' }), el('td', { text: '' })])); });
      dets.forEach(function (d) {
        var best = 0; gts.forEach(function (m) { best = Math.max(best, iou(d, m)); });
        b.appendChild(el('tr', { class: 'det-row' }, [el('td', { text: 'detection' }), el('td', { text: num(d[1], 2) }), el('td', { text: num(d[2], 2) }), el('td', { text: num(d[3], 4) }), el('td', { text: num(best, 3) })]));
      });
      t.appendChild(b);
      var all = v.detections.filter(function (d) { return d[0] === k; }).length;
      return el('details', { class: 'video-details' }, [el('summary', { class: 'note', text: v.id + ' · ' + state.cls + ': ' + gts.length + ' ground-truth instances, ' + all + ' detections (the instances and the top 10 detections)' + (v.detections.length < v.detections_total ? '; ' + v.detections_total + ' detections in all, the ' + v.detections.length + ' best kept' : '') }), t]);
    }

    if (videoIds.length) {
      // Start on the first video with ground truth and detections.
      var start = videoIds.filter(function (id) { var v = byRun[0][id]; return v && v.ground_truth.length && v.detections.length; })[0] || videoIds[0];
      setVideo(start);
    } else holder.appendChild(el('p', { class: 'note', text: 'no video' }));
    return sec;
  }

  var app = document.getElementById('app');
  app.innerHTML = '';
  document.body.insertBefore(toc(), app);
  document.body.insertBefore(header(), document.body.firstChild);
  [protocolSection, mapSection, curvesSection, diagnosisSection, viewerSection].forEach(function (f) { app.appendChild(f()); });
  document.body.setAttribute('data-ready', '1');
})();
