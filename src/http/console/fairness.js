/* kulanz console: fairness per segment (the "no two-class service" promise), retention
 * after a gesture against without one, and what the expected-value ranking has learned.
 * Every rate shows the cases behind it, so nobody reads noise as a result. */
(function () {
  'use strict';
  var t = KC.t, el = KC.el;
  /** Fewer judged cases than this: the rate is shown, marked as too few to conclude. */
  var MIN_JUDGED = 30;

  function rate(g) {
    var judged = g.retained + g.lost;
    var text = g.rate === null || g.rate === undefined ? t('none') : KC.pct(g.rate);
    return el('span', { 'class': judged < MIN_JUDGED ? 'kc-small-n' : null, 'data-value': g.rate === null ? '' : String(g.rate) }, [
      el('strong', { text: text }),
      el('span', { 'class': 'kc-muted', text: ' ' + KC.num(g.retained) + '/' + KC.num(judged) + ' ' + t('col.judged') +
        (g.pending ? ', ' + KC.num(g.pending) + ' ' + t('col.pending') : '') }),
      judged < MIN_JUDGED ? el('span', { 'class': 'kc-badge kc-warn', text: t('fairness.small') }) : null
    ]);
  }

  KC.pages.fairness = function (root, params) {
    var w = KC.window(params);
    return Promise.all([
      KC.api('GET', '/v1/reports/goodwill' + KC.query(w.api)),
      KC.api('GET', '/v1/reports/retention')
    ]).then(function (res) {
      var r = res[0], learned = res[1];
      var behind = function (narrow) {
        return KC.href('decisions', Object.assign({ from: w.from, to: w.to, segment: w.segment }, narrow));
      };
      var fair = KC.section(t('fairness.fair'), [
        el('p', { 'class': 'kc-muted', text: t('fairness.fairText') }),
        KC.table([
          { label: t('col.segment'), cell: function (f) { return KC.label('segments', f.segment); } },
          { label: t('col.decisions'), num: true, name: 'decisions', cell: function (f) {
            return KC.numLink(KC.num(f.decisions), f.decisions, behind({ segment: f.segment }));
          } },
          { label: t('col.floorShare'), name: 'floor', cell: function (f) { return KC.charts.share(f.floor_applied_share); } },
          { label: t('col.median'), num: true, name: 'median', cell: function (f) {
            return el('span', { 'data-value': f.median_recommended.amount, text: KC.money(f.median_recommended) });
          } }
        ], r.fairness, function (f) { return f.segment; }, { 'data-table': 'fairness' })
      ]);
      var ret = r.retention;
      var retention = KC.section(t('fairness.retention'), [
        el('p', { 'class': 'kc-muted', text: t('fairness.retentionText', { days: ret.window_days, asOf: KC.time(ret.as_of), min: MIN_JUDGED }) }),
        KC.table([
          { label: t('col.segment'), cell: function (c) { return KC.label('segments', c.segment); } },
          { label: t('col.with'), name: 'with', cell: function (c) { return rate(c.with_gesture); } },
          { label: t('col.without'), name: 'without', cell: function (c) { return rate(c.without_gesture); } },
          { label: t('col.difference'), num: true, name: 'difference', cell: function (c) {
            return c.difference_points === null || c.difference_points === undefined ? t('none')
              : el('span', { 'data-value': String(c.difference_points), text: (c.difference_points > 0 ? '+' : '') + KC.num(c.difference_points, 1) + ' pp' });
          } }
        ], ret.comparisons, function (c) { return c.segment; }, { 'data-table': 'retention' })
      ]);
      var rows = learned.rows.filter(function (x) { return !w.segment || x.segment === w.segment; });
      var ranking = KC.section(t('fairness.learned'), [
        el('p', { 'class': 'kc-muted', text: t('fairness.learnedText') + ' (' + learned.policy + ')' }),
        KC.table([
          { label: t('col.gesture'), cell: function (x) { return KC.label('gestures', x.gesture); } },
          { label: t('col.segment'), cell: function (x) { return KC.label('segments', x.segment); } },
          { label: t('col.prior'), num: true, cell: function (x) {
            if (!x.prior) return t('none');
            var n = x.prior.retained + x.prior.lost;
            return KC.pct(n ? x.prior.retained / n : 0) + ' (n=' + KC.num(n, 1) + ')';
          } },
          { label: t('col.retained'), num: true, cell: function (x) {
            return KC.num(x.retained) + '/' + KC.num(x.retained + x.lost) + ' ' + t('col.judged');
          } },
          { label: t('col.posterior'), num: true, cell: function (x) { return x.retention === null || x.retention === undefined ? t('none') : KC.pct(x.retention); } }
        ], rows, function (x) { return x.gesture + '/' + x.segment; }, { 'data-table': 'learned' })
      ]);
      root.replaceChildren(el('h1', { text: t('fairness.title') }), KC.filters('fairness', w), fair, retention, ranking);
    });
  };
}());
