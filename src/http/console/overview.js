/* kulanz console: the overview (GET /v1/reports/goodwill) and the decisions behind each of
 * its numbers (GET /v1/reports/decisions). */
(function () {
  'use strict';
  var t = KC.t, el = KC.el;

  /** The window the lead picked: days inclusive on the page, `to` exclusive in the API. */
  function window_(params) {
    var from = params.from || KC.today(-29);
    var to = params.to || KC.today(0);
    return { from: from, to: to, segment: params.segment || '', api: { from: from, to: KC.nextDay(to), segment: params.segment || '' } };
  }
  KC.window = window_;

  /** Date range and segment; applying changes the address, so the view can be shared. */
  function filters(page, w, extra) {
    var from = el('input', { type: 'date', name: 'from', value: w.from, required: true });
    var to = el('input', { type: 'date', name: 'to', value: w.to, required: true });
    var seg = KC.select('segment', [['', t('filter.all')]], w.segment);
    KC.segments().then(function (ids) {
      ids.forEach(function (id) {
        seg.appendChild(el('option', { value: id, text: KC.label('segments', id), selected: id === w.segment }));
      });
    });
    var form = el('form', { 'class': 'kc-filters', 'data-form': 'filters', onsubmit: function (ev) {
      ev.preventDefault();
      KC.go(page, Object.assign({}, extra || {}, { from: from.value, to: to.value, segment: seg.value }));
    } }, [KC.field(t('filter.from'), from), KC.field(t('filter.to'), to), KC.field(t('filter.segment'), seg),
      el('button', { type: 'submit', 'class': 'kc-primary', text: t('apply') })]);
    return form;
  }
  KC.filters = filters;

  /** A link to the decisions behind a number, within the current window. */
  function behind(w, narrow) {
    return KC.href('decisions', Object.assign({ from: w.from, to: w.to, segment: w.segment }, narrow || {}));
  }

  /** Every day of the window, with the report's counts (0 where none). */
  function days(w, byDay) {
    var have = {};
    byDay.forEach(function (d) { have[d.day] = d; });
    var out = [], d = w.from, guard = 0;
    while (d <= w.to && guard++ < 400) {
      out.push({ key: d, label: KC.day(d).slice(0, 5), value: have[d] ? have[d].decisions : 0,
        href: behind(w, { day: d }) });
      d = KC.nextDay(d);
    }
    return out;
  }

  KC.pages.overview = function (root, params) {
    var w = window_(params);
    return KC.api('GET', '/v1/reports/goodwill' + KC.query(w.api)).then(function (r) {
      var withinN = Math.round(r.within_authority_share * r.decisions);
      var escalated = r.by_role.reduce(function (s, g) { return s + g.escalated; }, 0);
      var kpis = el('div', { 'class': 'kc-kpis' }, [
        KC.kpi({ name: 'decisions', label: t('kpi.decisions'), value: r.decisions, display: KC.num(r.decisions), href: behind(w) }),
        KC.kpi({ name: 'recommended', label: t('kpi.recommended'), value: r.recommended.amount, display: KC.money(r.recommended), href: behind(w) }),
        KC.kpi({ name: 'granted', label: t('kpi.granted'), value: r.granted.amount, display: KC.money(r.granted),
          href: behind(w, { outcome: 'recorded' }), note: t('kpi.outcomes', { n: KC.num(r.outcomes) }) }),
        KC.kpi({ name: 'within_authority_share', label: t('kpi.within'), value: r.within_authority_share, display: KC.pct(r.within_authority_share),
          href: behind(w, { within_authority: 'true' }), note: t('kpi.withinNote', { n: KC.num(withinN), d: KC.num(r.decisions) }) }),
        KC.kpi({ name: 'escalation_rate', label: t('kpi.escalation'), value: r.escalation_rate, display: KC.pct(r.escalation_rate),
          href: behind(w, { outcome: 'escalated' }), note: t('kpi.escalationNote', { n: KC.num(escalated), d: KC.num(r.outcomes) }) }),
        KC.kpi({ name: 'acceptance_rate', label: t('kpi.acceptance'), value: r.acceptance_rate, display: KC.pct(r.acceptance_rate),
          href: behind(w, { customer_accepted: 'true' }), note: t('kpi.acceptanceNote') })
      ]);
      var body = [el('h1', { text: t('overview.title') }), filters('overview', w), kpis];
      if (!r.decisions) {
        body.push(KC.alert('info', t('overview.nothing'), { 'data-empty': 'true' }));
        root.replaceChildren.apply(root, body);
        return;
      }
      body.push(KC.section(t('overview.perDay'), [KC.charts.bars(days(w, r.by_day), { label: t('overview.perDay'), name: 'per-day' })]));
      var gestures = r.by_gesture.slice().sort(function (a, b) { return Number(b.recommended.amount) - Number(a.recommended.amount); });
      body.push(KC.section(t('overview.byGesture'), [
        KC.charts.pairs(gestures.map(function (g) {
          return { label: KC.label('gestures', g.key), a: Number(g.recommended.amount), b: Number(g.granted.amount),
            aText: KC.money(g.recommended), bText: KC.money(g.granted) };
        }), { label: t('overview.amountChart'), name: 'by-gesture', a: t('col.recommended'), b: t('col.granted') }),
        KC.table([
          { label: t('col.gesture'), cell: function (g) { return KC.label('gestures', g.key); } },
          { label: t('col.decisions'), num: true, name: 'decisions', cell: function (g) { return KC.numLink(KC.num(g.decisions), g.decisions, behind(w, { gesture: g.key })); } },
          { label: t('col.recommended'), num: true, name: 'recommended', cell: function (g) { return el('span', { 'data-value': g.recommended.amount, text: KC.money(g.recommended) }); } },
          { label: t('col.outcomes'), num: true, name: 'outcomes', cell: function (g) { return KC.numLink(KC.num(g.outcomes), g.outcomes, behind(w, { gesture: g.key, outcome: 'recorded' })); } },
          { label: t('col.granted'), num: true, name: 'granted', cell: function (g) { return el('span', { 'data-value': g.granted.amount, text: KC.money(g.granted) }); } }
        ], gestures, function (g) { return g.key; }, { 'data-table': 'by-gesture' })
      ]));
      body.push(KC.section(t('overview.byRole'), [KC.table([
        { label: t('col.role'), cell: function (g) { return KC.label('roles', g.key); } },
        { label: t('col.decisions'), num: true, name: 'decisions', cell: function (g) { return KC.numLink(KC.num(g.decisions), g.decisions, behind(w, { role: g.key })); } },
        { label: t('col.within'), name: 'within', cell: function (g) {
          return el('a', { href: behind(w, { role: g.key, within_authority: 'true' }) }, [KC.charts.share(g.decisions ? g.within_authority / g.decisions : 0)]);
        } },
        { label: t('col.escalated'), num: true, name: 'escalated', cell: function (g) { return KC.numLink(KC.num(g.escalated), g.escalated, behind(w, { role: g.key, outcome: 'escalated' })); } },
        { label: t('col.granted'), num: true, name: 'granted', cell: function (g) { return el('span', { 'data-value': g.granted.amount, text: KC.money(g.granted) }); } }
      ], r.by_role, function (g) { return g.key; }, { 'data-table': 'by-role' })]));
      root.replaceChildren.apply(root, body);
    });
  };

  function outcomeText(d) {
    return d.outcome ? KC.t('outcome.' + d.outcome) : (d.granted ? t('outcome.recorded') : t('outcome.open'));
  }

  /** The decisions behind a number: the filters as chips, then one line per decision. */
  KC.pages.decisions = function (root, params) {
    var w = window_(params);
    var narrow = {};
    ['gesture', 'role', 'agent', 'customer', 'day', 'outcome', 'within_authority', 'customer_accepted'].forEach(function (k) {
      if (params[k]) narrow[k] = params[k];
    });
    var q = Object.assign({}, w.api, narrow, { limit: 200 });
    return KC.api('GET', '/v1/reports/decisions' + KC.query(q)).then(function (r) {
      var chips = el('ul', { 'class': 'kc-chips' }, Object.keys(narrow).map(function (k) {
        var v = narrow[k];
        if (k === 'gesture') v = KC.label('gestures', v);
        if (k === 'role') v = KC.label('roles', v);
        if (k === 'outcome') v = KC.t('outcome.' + v);
        if (k === 'within_authority') v = v === 'true' ? t('col.within') : '¬ ' + t('col.within');
        if (k === 'customer_accepted') v = v === 'true' ? t('decisions.accepted') : t('decisions.refused');
        if (k === 'day') v = KC.day(v);
        return el('li', { 'class': 'kc-chip', 'data-filter': k, text: v });
      }));
      var head = t('decisions.matched', { n: KC.num(r.matched) }) + (r.truncated ? ' · ' + t('decisions.shown', { n: KC.num(r.decisions.length) }) : '');
      root.replaceChildren(
        el('h1', { text: t('decisions.title') }),
        filters('decisions', w, narrow), chips,
        el('p', { 'data-matched': String(r.matched), text: head }),
        KC.table([
          { label: t('col.time'), cell: function (d) { return KC.time(d.created_at); } },
          { label: t('col.ticket'), cell: function (d) { return d.ticket_id; } },
          { label: t('col.customer'), cell: function (d) { return el('a', { href: KC.href('customer', { id: d.customer_id }), text: d.customer_id }); } },
          { label: t('col.segment'), cell: function (d) { return KC.label('segments', d.segment); } },
          { label: t('col.role'), cell: function (d) { return KC.label('roles', d.role) + ' (' + d.agent_id + ')'; } },
          { label: t('col.gesture'), cell: function (d) { return KC.label('gestures', d.gesture); } },
          { label: t('col.recommended'), num: true, cell: function (d) { return KC.money(d.recommended); } },
          { label: t('col.within'), cell: function (d) { return d.within_authority ? t('yes') : t('no'); } },
          { label: t('col.outcome'), cell: outcomeText },
          { label: t('col.granted'), num: true, cell: function (d) { return d.granted ? KC.money(d.granted) : t('none'); } }
        ], r.decisions, function (d) { return d.decision_id; }, { 'data-table': 'decisions' }));
    });
  };
}());
