/* kulanz console: the silent-churn list (GET /v1/customers/at-risk) ranked by value at
 * risk, and one customer (GET /v1/customers/{id} and their decisions). */
(function () {
  'use strict';
  var t = KC.t, el = KC.el;

  function chips(c) {
    return el('ul', { 'class': 'kc-chips' }, c.signals.map(function (s, i) {
      return el('li', { 'class': 'kc-chip kc-warn', 'data-signal': s, title: c.reasons[i] || '', text: signal(s) });
    }));
  }

  function signal(s) {
    var w = t('atRisk.signals.' + s);
    return w === 'atRisk.signals.' + s ? s : w;
  }

  KC.pages['at-risk'] = function (root, params) {
    var quiet = params.quiet_days || '30';
    var segment = params.segment || '';
    var rows = [];
    var seg = KC.select('segment', [['', t('filter.all')]], segment);
    KC.segments().then(function (ids) {
      ids.forEach(function (id) { seg.appendChild(el('option', { value: id, text: KC.label('segments', id), selected: id === segment })); });
    });
    var quietIn = el('input', { type: 'number', name: 'quiet_days', min: '0', max: '3650', value: quiet });
    var form = el('form', { 'class': 'kc-filters', 'data-form': 'filters', onsubmit: function (ev) {
      ev.preventDefault();
      KC.go('at-risk', { segment: seg.value, quiet_days: quietIn.value });
    } }, [KC.field(t('filter.segment'), seg), KC.field(t('atRisk.quiet'), quietIn),
      el('button', { type: 'submit', 'class': 'kc-primary', text: t('apply') })]);
    var holder = el('div', {});
    var more = el('div', {});

    function draw() {
      if (!rows.length) { holder.replaceChildren(KC.alert('info', t('atRisk.empty'), { 'data-empty': 'true' })); return; }
      holder.replaceChildren(KC.table([
        { label: '#', num: true, cell: function (c) { return String(rows.indexOf(c) + 1); } },
        { label: t('col.customer'), name: 'customer', cell: function (c) {
          return el('a', { href: KC.href('customer', { id: c.customer_id }), text: c.customer_id, 'data-customer': c.customer_id });
        } },
        { label: t('col.segment'), cell: function (c) { return KC.label('segments', c.segment); } },
        { label: t('col.valueAtRisk'), num: true, name: 'value', cell: function (c) {
          return el('span', { 'data-value': c.value_at_risk.amount, text: KC.money(c.value_at_risk) });
        } },
        { label: t('col.signals'), name: 'signals', cell: chips },
        { label: t('col.suggested'), name: 'suggested', cell: function (c) {
          var amount = Number(c.suggested.amount.amount) ? ' ' + KC.money(c.suggested.amount) : '';
          return el('span', { title: c.suggested.agent_script, 'data-gesture': c.suggested.gesture, text: KC.label('gestures', c.suggested.gesture) + amount });
        } },
        { label: t('col.pushed'), name: 'pushed', cell: function (c) {
          return c.pushed_at ? el('span', { 'class': 'kc-badge kc-ok', 'data-pushed': 'true', text: KC.time(c.pushed_at) })
            : el('span', { 'class': 'kc-muted', 'data-pushed': 'false', text: t('atRisk.notPushed') });
        } },
        { label: t('col.last'), cell: function (c) { return c.last_decision_at ? KC.time(c.last_decision_at) : t('none'); } }
      ], rows, function (c) { return c.customer_id; }, { 'data-table': 'at-risk' }));
    }

    function load(cursor) {
      return KC.api('GET', '/v1/customers/at-risk' + KC.query({ segment: segment, quiet_days: quiet, limit: 50, cursor: cursor }))
        .then(function (page) {
          rows = rows.concat(page.customers);
          draw();
          more.replaceChildren(page.next_cursor ? KC.button(t('atRisk.more'), function () { load(page.next_cursor); }, { 'data-action': 'more' }) : el('span'));
        });
    }
    return load(undefined).then(function () {
      root.replaceChildren(el('h1', { text: t('atRisk.title') }),
        el('p', { 'class': 'kc-muted', text: t('atRisk.text', { days: quiet }) }), form, holder, more);
    });
  };

  KC.pages.customer = function (root, params) {
    var id = params.id || '';
    var record = KC.api('GET', '/v1/customers/' + encodeURIComponent(id)).then(null, function (e) {
      if (e.status === 404) return null;
      throw e;
    });
    var decisions = KC.api('GET', '/v1/reports/decisions' + KC.query({ customer: id, limit: 50 }));
    return Promise.all([record, decisions]).then(function (res) {
      var c = res[0], d = res[1];
      var facts = c ? el('dl', { 'class': 'kc-facts', 'data-customer': id }, [
        [t('customer.revenue'), KC.money(c.lifetime_revenue)],
        [t('customer.predicted'), c.predicted_value ? KC.money(c.predicted_value) : t('none')],
        [t('customer.orders'), c.orders === undefined || c.orders === null ? t('none') : KC.num(c.orders)],
        [t('customer.lastOrder'), c.last_order_at || t('none')],
        [t('customer.tier'), c.tier || t('none')],
        [t('customer.peak'), c.peak_tier || t('none')],
        [t('customer.nps'), c.nps ? c.nps.score + ' (' + c.nps.at + ')' : t('none')],
        [t('customer.goodwill'), c.goodwill_12m ? KC.money(c.goodwill_12m) : t('none')],
        [t('customer.claims'), c.claims_90d === undefined || c.claims_90d === null ? t('none') : KC.num(c.claims_90d)]
      ].reduce(function (out, p) { return out.concat([el('dt', { text: p[0] }), el('dd', { text: p[1] })]); }, []))
        : KC.alert('info', t('customer.unknown'));
      root.replaceChildren(el('h1', { text: t('customer.title', { id: id }) }),
        KC.section(t('customer.record'), [facts]),
        KC.section(t('customer.decisions'), [KC.table([
          { label: t('col.time'), cell: function (x) { return KC.time(x.created_at); } },
          { label: t('col.ticket'), cell: function (x) { return x.ticket_id; } },
          { label: t('col.category'), cell: function (x) { return x.category; } },
          { label: t('col.gesture'), cell: function (x) { return KC.label('gestures', x.gesture); } },
          { label: t('col.recommended'), num: true, cell: function (x) { return KC.money(x.recommended); } },
          { label: t('col.outcome'), cell: function (x) { return x.outcome ? t('outcome.' + x.outcome) : (x.granted ? t('outcome.recorded') : t('outcome.open')); } },
          { label: t('col.granted'), num: true, cell: function (x) { return x.granted ? KC.money(x.granted) : t('none'); } }
        ], d.decisions, function (x) { return x.decision_id; }, { 'data-table': 'customer-decisions' })]));
    });
  };
}());
