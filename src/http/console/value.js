/* kulanz console: customer value. The active model's parameters (GET /v1/value/model) and
 * a holdout validation (POST /v1/value/validate) with its table and the two standard
 * charts, drawn by the server as SVG and shown as images (an image cannot run script). */
(function () {
  'use strict';
  var t = KC.t, el = KC.el;

  function param(name, v, digits) {
    return [el('dt', { text: name }), el('dd', { 'data-param': name, 'data-value': String(v), text: KC.num(v, digits || 4) })];
  }

  function modelView(m) {
    if (!m) return KC.alert('info', t('value.noModel'), { 'data-model': 'none' });
    return el('div', { 'data-model': String(m.version) }, [
      el('p', { text: t('value.fitted', { at: KC.time(m.fitted_at), customers: KC.num(m.bgnbd_fit.customers),
        unit: t('value.units.' + m.settings.time_unit) }) + ' · ' + m.currency + ' · v' + m.version }),
      el('div', { 'class': 'kc-cols' }, [
        el('div', {}, [el('h3', { text: t('value.bgnbd') }), el('dl', { 'class': 'kc-facts' },
          [].concat(param('r', m.bgnbd.r), param('alpha', m.bgnbd.alpha), param('a', m.bgnbd.a), param('b', m.bgnbd.b),
            param('log L', m.bgnbd_fit.log_likelihood, 2)))]),
        el('div', {}, [el('h3', { text: t('value.gg') }), el('dl', { 'class': 'kc-facts' },
          [].concat(param('p', m.gamma_gamma.p), param('q', m.gamma_gamma.q), param('v', m.gamma_gamma.v),
            param('log L', m.gamma_gamma_fit.log_likelihood, 2)))])
      ])
    ]);
  }

  function svgImage(svg, alt, name) {
    // A data: URL image: allowed by `img-src data:`, and SVG in <img> never runs script.
    return el('img', { 'class': 'kc-svg', alt: alt, 'data-chart': name, src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg) });
  }

  function report(r) {
    var p = r.purchases;
    var spend = r.spend && r.spend.spend;
    return el('div', { 'data-validation': String(r.customers) }, [
      el('p', { 'data-summary': 'purchases', text: t('value.summary', { customers: KC.num(r.customers),
        actual: KC.num(p.actual_total, 0), predicted: KC.num(p.predicted_total, 1) }) }),
      el('dl', { 'class': 'kc-facts' }, [
        el('dt', { text: t('value.mae') }), el('dd', { 'data-value': String(p.mean_absolute_error), text: KC.num(p.mean_absolute_error, 3) }),
        el('dt', { text: t('value.corr') }), el('dd', { 'data-value': String(p.correlation), text: p.correlation === null ? t('none') : KC.num(p.correlation, 3) })
      ]),
      spend ? el('p', { text: t('value.spend', { actual: KC.num(spend.actual_mean, 2), predicted: KC.num(spend.predicted_mean, 2) }) + ' ' + r.currency }) : null,
      el('h3', { text: t('value.charts') }),
      r.charts ? el('div', { 'class': 'kc-cols' }, [
        svgImage(r.charts.tracking, t('value.charts'), 'tracking'),
        svgImage(r.charts.conditional, t('value.byFrequency'), 'conditional')
      ]) : null,
      el('p', { 'class': 'kc-muted', text: t('value.trust') }),
      el('h3', { text: t('value.byFrequency') }),
      KC.table([
        { label: t('col.frequency'), cell: function (f) { return f.frequency + (f.or_more ? '+' : ''); } },
        { label: t('col.customers'), num: true, cell: function (f) { return KC.num(f.customers); } },
        { label: t('col.actual'), num: true, name: 'actual', cell: function (f) { return f.actual_mean === null ? t('none') : KC.num(f.actual_mean, 2); } },
        { label: t('col.predicted'), num: true, name: 'predicted', cell: function (f) { return f.predicted_mean === null ? t('none') : KC.num(f.predicted_mean, 2); } }
      ], r.by_calibration_frequency, function (f) { return String(f.frequency); }, { 'data-table': 'by-frequency' })
    ]);
  }

  KC.pages.value = function (root, params) {
    return KC.api('GET', '/v1/value/model').then(null, function (e) {
      if (e.status === 404) return null;
      throw e;
    }).then(function (m) {
      var calEnd = el('input', { type: 'date', name: 'calibration_end', value: params.calibration_end || '', required: true });
      var holdEnd = el('input', { type: 'date', name: 'holdout_end', value: params.holdout_end || '', required: true });
      var unit = KC.select('time_unit', ['week', 'day', 'month'].map(function (u) { return [u, t('value.units.' + u)]; }), params.time_unit || 'week');
      var out = el('div', {});
      var run = function () {
        out.replaceChildren(el('p', { 'class': 'kc-muted', 'data-running': 'true', text: t('loading') }));
        return KC.api('POST', '/v1/value/validate', { calibration_end: calEnd.value, holdout_end: holdEnd.value,
          time_unit: unit.value, charts: KC.lang() })
          .then(function (r) { out.replaceChildren(report(r)); }, function (e) { out.replaceChildren(KC.failure(e)); });
      };
      var form = el('form', { 'class': 'kc-filters', 'data-form': 'validate', onsubmit: function (ev) {
        ev.preventDefault();
        KC.go('value', { calibration_end: calEnd.value, holdout_end: holdEnd.value, time_unit: unit.value });
      } }, [KC.field(t('value.calibrationEnd'), calEnd), KC.field(t('value.holdoutEnd'), holdEnd), KC.field(t('value.unit'), unit),
        el('button', { type: 'submit', 'class': 'kc-primary', text: t('value.run') })]);
      root.replaceChildren(el('h1', { text: t('value.title') }),
        KC.section(t('value.model'), [modelView(m)]),
        KC.section(t('value.validate'), [el('p', { 'class': 'kc-muted', text: t('value.validateText') }), form, out]));
      if (params.calibration_end && params.holdout_end) return run();
    });
  };
}());
