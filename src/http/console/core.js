/* kulanz console: what every page shares. The key, the calls to the JSON API, the words,
 * number formats, and small builders for sections, figures and tables. Everything is
 * written with textContent, never as HTML, so no stored text can inject code. */
(function () {
  'use strict';
  var KEY = 'kulanz.console.key';
  var LANG = 'kulanz.console.lang';
  var KC = window.KC = { pages: {} };

  KC.lang = function () {
    var l = sessionStorage.getItem(LANG);
    if (l === 'de' || l === 'en') return l;
    var nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'de';
    return String(nav).toLowerCase().indexOf('en') === 0 ? 'en' : 'de';
  };
  KC.setLang = function (l) { sessionStorage.setItem(LANG, l); };
  KC.locale = function () { return KC.lang() === 'de' ? 'de-DE' : 'en-GB'; };

  /** The key lives in this tab's sessionStorage only: no cookie, no URL. */
  KC.key = function () { return sessionStorage.getItem(KEY); };
  KC.setKey = function (k) { sessionStorage.setItem(KEY, k); };
  KC.clearKey = function () { sessionStorage.removeItem(KEY); };

  /** A word by its dotted path, with `{name}` filled from `vars`. */
  KC.t = function (path, vars) {
    var v = path.split('.').reduce(function (o, k) { return o && o[k]; }, window.KC_TEXT[KC.lang()]);
    if (typeof v !== 'string') v = path;
    return v.replace(/\{(\w+)\}/g, function (_, k) { return vars && k in vars ? String(vars[k]) : ''; });
  };
  /** A policy id (gesture, role, segment) in words, or the id itself when unknown. */
  KC.label = function (kind, id) {
    var m = window.KC_TEXT[KC.lang()][kind];
    return (m && m[id]) || String(id);
  };

  KC.el = function (tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = v;
      else if (k.indexOf('on') === 0) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return e;
  };

  KC.num = function (n, digits) {
    return new Intl.NumberFormat(KC.locale(), { maximumFractionDigits: digits === undefined ? 0 : digits }).format(n);
  };
  /** A share 0…1 as a percentage with one decimal. */
  KC.pct = function (share) {
    return new Intl.NumberFormat(KC.locale(), { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(share);
  };
  /** Money for display only: the API's decimal string stays the value of record. */
  KC.money = function (m) {
    if (!m) return KC.t('none');
    try {
      return new Intl.NumberFormat(KC.locale(), { style: 'currency', currency: m.currency }).format(Number(m.amount));
    } catch (e) { return m.amount + ' ' + m.currency; }
  };
  KC.time = function (rfc3339) {
    if (!rfc3339) return KC.t('none');
    var d = new Date(rfc3339);
    if (isNaN(d)) return String(rfc3339);
    return new Intl.DateTimeFormat(KC.locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  };
  KC.day = function (ymd) {
    var d = new Date(ymd + 'T00:00:00Z');
    if (isNaN(d)) return String(ymd);
    return new Intl.DateTimeFormat(KC.locale(), { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC' }).format(d);
  };

  /** Call the API with the key in a header; reject with `{status, code, message}`. */
  KC.api = function (method, path, body) {
    var init = { method: method, headers: { Authorization: 'Bearer ' + KC.key(), Accept: 'application/json' },
      credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (text) {
        var v = null;
        try { v = text ? JSON.parse(text) : null; } catch (e) { v = null; }
        if (r.ok) return v;
        var err = (v && v.error) || {};
        return Promise.reject({ status: r.status, code: err.code || String(r.status), message: err.message || r.statusText });
      });
    });
  };
  /** A query string from the set fields of `params`. */
  KC.query = function (params) {
    var q = Object.keys(params || {}).filter(function (k) {
      return params[k] !== undefined && params[k] !== null && params[k] !== '';
    }).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); });
    return q.length ? '?' + q.join('&') : '';
  };
  /** `#/page?x=1` → {page, params}. */
  KC.route = function () {
    var h = location.hash.replace(/^#\/?/, '');
    var i = h.indexOf('?');
    var page = (i < 0 ? h : h.slice(0, i)) || 'overview';
    var params = {};
    if (i >= 0) {
      h.slice(i + 1).split('&').forEach(function (p) {
        if (!p) return;
        var kv = p.split('=');
        params[decodeURIComponent(kv[0])] = decodeURIComponent((kv[1] || '').replace(/\+/g, ' '));
      });
    }
    return { page: page, params: params };
  };
  KC.href = function (page, params) { return '#/' + page + KC.query(params); };
  KC.go = function (page, params) { location.hash = KC.href(page, params); };

  KC.section = function (title, children, attrs) {
    return KC.el('section', Object.assign({ 'class': 'kc-card' }, attrs || {}),
      [title ? KC.el('h2', { text: title }) : null].concat(children));
  };
  /** A headline figure: `value` is the API's number, kept in data-value for checks. */
  KC.kpi = function (o) {
    var figure = o.href ? KC.el('a', { href: o.href, text: o.display }) : KC.el('span', { text: o.display });
    return KC.el('div', { 'class': 'kc-kpi', 'data-kpi': o.name, 'data-value': String(o.value) }, [
      KC.el('div', { 'class': 'kc-kpi-label', text: o.label }),
      KC.el('div', { 'class': 'kc-kpi-value' }, [figure]),
      o.note ? KC.el('div', { 'class': 'kc-muted', text: o.note }) : null
    ]);
  };
  /** A link showing `text`, marked with the number it shows. */
  KC.numLink = function (text, value, href, name) {
    return KC.el('a', { href: href, text: text, 'data-value': String(value), 'data-num': name || null });
  };
  /** columns: [{label, cell(row) → node|string, num}]; rows get `data-key` from `key(row)`. */
  KC.table = function (columns, rows, key, attrs) {
    var head = KC.el('tr', {}, columns.map(function (c) {
      return KC.el('th', { scope: 'col', 'class': c.num ? 'kc-num' : null, text: c.label });
    }));
    var body = rows.map(function (r) {
      return KC.el('tr', { 'data-key': key ? key(r) : null }, columns.map(function (c) {
        var v = c.cell(r);
        return KC.el('td', { 'class': c.num ? 'kc-num' : null, 'data-col': c.name || null }, [v]);
      }));
    });
    return KC.el('div', { 'class': 'kc-table-wrap' },
      [KC.el('table', Object.assign({ 'class': 'kc-table' }, attrs || {}), [KC.el('thead', {}, [head]), KC.el('tbody', {}, body)])]);
  };
  /** A labelled form field. */
  KC.field = function (label, input) {
    return KC.el('label', { 'class': 'kc-field' }, [KC.el('span', { text: label }), input]);
  };
  KC.select = function (name, options, value) {
    return KC.el('select', { name: name }, options.map(function (o) {
      return KC.el('option', { value: o[0], text: o[1], selected: o[0] === value });
    }));
  };
  KC.button = function (text, onclick, attrs) {
    return KC.el('button', Object.assign({ type: 'button', text: text, onclick: onclick }, attrs || {}));
  };
  KC.alert = function (kind, text, attrs) {
    return KC.el('p', Object.assign({ 'class': 'kc-alert kc-' + kind, role: kind === 'bad' ? 'alert' : 'status', text: text }, attrs || {}));
  };
  KC.failure = function (err) {
    return KC.alert('bad', KC.t('error', { message: (err && (err.code ? err.code + ': ' : '') + (err.message || '')) || String(err) }),
      { 'data-error': (err && err.code) || 'error' });
  };
  /** Today as `YYYY-MM-DD` (UTC), shifted by `days`. */
  KC.today = function (days) {
    var d = new Date(Date.now() + (days || 0) * 86400000);
    return d.toISOString().slice(0, 10);
  };
  /** The day after `ymd`: the API's `to` is exclusive, the lead's "to" inclusive. */
  KC.nextDay = function (ymd) {
    var d = new Date(ymd + 'T00:00:00Z');
    return isNaN(d) ? ymd : new Date(d.getTime() + 86400000).toISOString().slice(0, 10);
  };
  /** The active policy's segment ids, for filters; cached for the page's life. */
  var segments = null;
  KC.segments = function () {
    if (segments) return Promise.resolve(segments);
    return KC.api('GET', '/v1/policies/active').then(function (p) {
      segments = ((p.document && p.document.segments) || []).map(function (s) { return s.id; });
      return segments;
    }, function () { return []; });
  };
  KC.forgetSegments = function () { segments = null; };
}());
