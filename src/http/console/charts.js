/* kulanz console: small SVG charts drawn in the page, no library and no network. Each
 * chart is a <figure> with an SVG and a caption; every bar carries its number in a
 * <title> (shown on hover, read by screen readers) and in data-value. */
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, children) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function text(x, y, s, attrs) {
    var t = svg('text', Object.assign({ x: x, y: y }, attrs || {}));
    t.textContent = s;
    return t;
  }
  function title(s) { var t = svg('title'); t.textContent = s; return t; }

  /** Round tick values from 0 to at least `max`. */
  function ticks(max) {
    if (!(max > 0)) return [0, 1];
    var raw = max / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; }).filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var v = 0; v < max + step; v += step) out.push(v);
    return out;
  }

  /**
   * Vertical bars: points [{label, value, href}], e.g. decisions per day.
   * Labels are thinned to fit; a bar with `href` is a link.
   */
  function bars(points, o) {
    var W = o.width || 1100, H = o.height || 230, L = 44, R = 10, T = 12, B = 34;
    var max = points.reduce(function (m, p) { return Math.max(m, p.value); }, 0);
    var tk = ticks(max), top = tk[tk.length - 1] || 1;
    var pw = W - L - R, ph = H - T - B, n = Math.max(points.length, 1), bw = pw / n;
    var g = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'class': 'kc-chart', 'aria-label': o.label });
    tk.forEach(function (v) {
      var y = T + ph - v / top * ph;
      g.appendChild(svg('line', { x1: L, x2: W - R, y1: y, y2: y, 'class': 'kc-grid' }));
      g.appendChild(text(L - 6, y + 4, KC.num(v, 1), { 'text-anchor': 'end', 'class': 'kc-axis' }));
    });
    var every = Math.ceil(n / Math.max(1, Math.floor(pw / 70)));
    points.forEach(function (p, i) {
      var h = p.value / top * ph, x = L + i * bw;
      var rect = svg('rect', { x: x + bw * 0.12, y: T + ph - h, width: Math.max(bw * 0.76, 1), height: Math.max(h, 0),
        'class': 'kc-bar', 'data-label': p.key || p.label, 'data-value': String(p.value) }, [title(p.label + ': ' + KC.num(p.value, 2))]);
      if (p.href) {
        var a = svg('a', { href: p.href }, [rect]);
        g.appendChild(a);
      } else g.appendChild(rect);
      if (i % every === 0) g.appendChild(text(x + bw / 2, H - B + 16, p.label, { 'text-anchor': 'middle', 'class': 'kc-axis' }));
    });
    g.appendChild(svg('line', { x1: L, x2: W - R, y1: T + ph, y2: T + ph, 'class': 'kc-baseline' }));
    return figure(g, o.label, o.name);
  }

  /**
   * Horizontal paired bars: rows [{label, a, b, aText, bText}], e.g. recommended (a) and
   * granted (b) per gesture, both on one scale.
   */
  function pairs(rows, o) {
    var W = o.width || 1100, rowH = 34, L = 200, R = 140, T = 8;
    var H = T + rows.length * rowH + 30;
    var max = rows.reduce(function (m, r) { return Math.max(m, r.a, r.b); }, 0) || 1;
    var pw = W - L - R;
    var g = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'class': 'kc-chart', 'aria-label': o.label });
    rows.forEach(function (r, i) {
      var y = T + i * rowH;
      g.appendChild(text(L - 8, y + 19, r.label, { 'text-anchor': 'end', 'class': 'kc-axis' }));
      [['a', r.a, r.aText, 0], ['b', r.b, r.bText, 14]].forEach(function (s) {
        var w = s[1] / max * pw;
        g.appendChild(svg('rect', { x: L, y: y + 4 + s[3], width: Math.max(w, 1), height: 12, 'class': 'kc-bar kc-bar-' + s[0],
          'data-value': String(s[1]) }, [title(r.label + ': ' + s[2])]));
        g.appendChild(text(L + Math.max(w, 1) + 6, y + 14 + s[3], s[2], { 'class': 'kc-axis' }));
      });
    });
    var ly = H - 10;
    g.appendChild(svg('rect', { x: L, y: ly - 9, width: 10, height: 10, 'class': 'kc-bar kc-bar-a' }));
    g.appendChild(text(L + 14, ly, o.a, { 'class': 'kc-axis' }));
    g.appendChild(svg('rect', { x: L + 140, y: ly - 9, width: 10, height: 10, 'class': 'kc-bar kc-bar-b' }));
    g.appendChild(text(L + 154, ly, o.b, { 'class': 'kc-axis' }));
    return figure(g, o.label, o.name);
  }

  /** A share 0…1 as a small inline bar with its percentage. */
  function share(v) {
    var outer = KC.el('span', { 'class': 'kc-share' });
    var inner = KC.el('span', { 'class': 'kc-share-bar' });
    // CSSOM, not a style attribute: allowed under `style-src 'self'`.
    inner.style.width = Math.round(Math.max(0, Math.min(1, v)) * 100) + '%';
    outer.appendChild(inner);
    return KC.el('span', { 'class': 'kc-share-wrap', 'data-value': String(v) }, [outer, KC.el('span', { text: KC.pct(v) })]);
  }

  function figure(g, caption, name) {
    return KC.el('figure', { 'class': 'kc-figure', 'data-chart': name || null }, [g, KC.el('figcaption', { text: caption })]);
  }

  KC.charts = { bars: bars, pairs: pairs, share: share };
}());
