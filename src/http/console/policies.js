/* kulanz console: policy releases. Versions with author and time, the differences between
 * two in words, a backtest of a candidate against the stored decisions, the shadow run,
 * and activation behind a confirmation that names what will change. */
(function () {
  'use strict';
  var t = KC.t, el = KC.el;

  /** One change of GET /v1/policies/{v}/diff in the lead's language. */
  function diffText(c) {
    var v = Object.assign({}, c);
    if (c.kind === 'rule_order') v.order = c.order.join(', ');
    if (c.kind === 'rule_changed' || c.kind === 'setting') {
      var base = c.kind === 'rule_changed' ? 'diff.rule_' : 'diff.setting_';
      if (c.before === null || c.before === undefined) return t(base + 'added' + (c.kind === 'rule_changed' ? '_field' : ''), v);
      if (c.after === null || c.after === undefined) return t(base + 'removed' + (c.kind === 'rule_changed' ? '_field' : ''), v);
      return t(c.kind === 'rule_changed' ? 'diff.rule_changed' : 'diff.setting', v);
    }
    return t('diff.' + c.kind, v);
  }

  function diffList(d) {
    if (!d.changes.length) return KC.alert('info', t('policies.noChanges'), { 'data-diff': '0' });
    return el('div', { 'data-diff': String(d.changes.length) }, [
      el('p', { text: t('policies.changes', { n: d.changes.length, from: d.from, to: d.to }) }),
      el('ul', { 'class': 'kc-diff' }, d.changes.map(function (c) {
        return el('li', { 'data-kind': c.kind, text: diffText(c) });
      }))
    ]);
  }

  function money3(a, b, c) {
    return KC.money(a) + ' → ' + KC.money(b) + ' (' + (Number(c.amount) > 0 ? '+' : '') + KC.money(c) + ')';
  }

  function backtestView(r) {
    return el('div', { 'data-backtest': r.candidate, 'data-changed': String(r.changed) }, [
      el('p', { text: t('policies.btSummary', { changed: KC.num(r.changed), evaluated: KC.num(r.evaluated), notEvaluable: KC.num(r.not_evaluable) }) }),
      el('dl', { 'class': 'kc-facts' }, [
        el('dt', { text: t('policies.totalAmounts') }), el('dd', { 'data-value': r.total_delta.amount, text: money3(r.total_before, r.total_after, r.total_delta) }),
        el('dt', { text: t('policies.cost') }), el('dd', { text: money3(r.cost_before, r.cost_after, r.cost_delta) }),
        el('dt', { text: t('policies.aboveAuthority') }), el('dd', { text: KC.pct(r.above_authority.before) + ' → ' + KC.pct(r.above_authority.after) })
      ]),
      el('h3', { text: t('policies.bySegment') }),
      KC.table([
        { label: t('col.segment'), cell: function (g) { return KC.label('segments', g.key); } },
        { label: t('col.before'), num: true, cell: function (g) { return KC.money(g.before); } },
        { label: t('col.after'), num: true, cell: function (g) { return KC.money(g.after); } },
        { label: t('col.delta'), num: true, name: 'delta', cell: function (g) { return el('span', { 'data-value': g.delta.amount, text: KC.money(g.delta) }); } }
      ], r.by_segment, function (g) { return g.key; }, { 'data-table': 'backtest-segments' }),
      r.largest_changes.length ? el('h3', { text: t('policies.largest') }) : null,
      r.largest_changes.length ? KC.table([
        { label: t('col.ticket'), cell: function (c) { return c.ticket_id; } },
        { label: t('col.segment'), cell: function (c) { return KC.label('segments', c.segment); } },
        { label: t('col.before'), cell: function (c) { return KC.label('gestures', c.before.gesture) + ' ' + KC.money(c.before.amount); } },
        { label: t('col.after'), cell: function (c) { return KC.label('gestures', c.after.gesture) + ' ' + KC.money(c.after.amount); } },
        { label: t('col.delta'), num: true, cell: function (c) { return KC.money(c.delta); } }
      ], r.largest_changes.slice(0, 10), function (c) { return c.decision_id; }) : null
    ]);
  }

  function shadowResults(r) {
    if (!r) return null;
    return el('div', { 'data-shadow-compared': String(r.compared), 'data-shadow-differ': String(r.differ) }, [
      el('p', { text: t('policies.shadowCounts', { compared: KC.num(r.compared), differ: KC.num(r.differ), notEvaluable: KC.num(r.not_evaluable) }) }),
      r.recent.length ? KC.table([
        { label: t('col.ticket'), cell: function (d) { return d.ticket_id; } },
        { label: t('col.segment'), cell: function (d) { return KC.label('segments', d.segment); } },
        { label: t('policies.live'), cell: function (d) { return KC.label('gestures', d.live_gesture) + ' ' + KC.money(d.live_amount); } },
        { label: t('policies.inShadow'), cell: function (d) {
          return d.shadow_gesture ? KC.label('gestures', d.shadow_gesture) + ' ' + KC.money(d.shadow_amount) : t('none');
        } }
      ], r.recent, function (d) { return d.decision_id; }, { 'data-table': 'shadow' }) : null
    ]);
  }

  KC.pages.policies = function (root, params) {
    return Promise.all([KC.api('GET', '/v1/policies'), KC.api('GET', '/v1/policies/shadow')]).then(function (res) {
      var versions = res[0], shadow = res[1].shadow, shadowRun = res[1].results;
      var active = (versions.filter(function (v) { return v.active; })[0] || {}).version || '';
      var newest = versions.length ? versions[versions.length - 1].version : '';
      var options = versions.slice().reverse().map(function (v) { return [v.version, v.version + (v.active ? ' (' + t('policies.active') + ')' : '')]; });
      var notice = el('div', { 'class': 'kc-notice' });
      var confirmBox = el('div', {});

      function activate(v) {
        confirmBox.replaceChildren(el('p', { 'class': 'kc-muted', text: t('loading') }));
        Promise.all([
          KC.api('GET', '/v1/policies/' + encodeURIComponent(v) + '/diff' + KC.query({ from: active })),
          KC.api('POST', '/v1/policies/' + encodeURIComponent(v) + '/backtest').then(null, function () { return null; })
        ]).then(function (r) {
          var d = r[0], bt = r[1];
          var dialog = el('div', { 'class': 'kc-confirm', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'kc-confirm-title', 'data-confirm': v }, [
            el('h2', { id: 'kc-confirm-title', text: t('policies.activateTitle', { v: v }) }),
            el('p', { text: t('policies.activateText', { v: v, active: active || t('none') }) }),
            el('h3', { text: t('policies.activateChanges') }),
            diffList(d),
            bt ? el('p', { 'data-confirm-backtest': String(bt.changed), text: t('policies.activateBacktest', {
              changed: KC.num(bt.changed), evaluated: KC.num(bt.evaluated), before: KC.money(bt.total_before), after: KC.money(bt.total_after) }) }) : null,
            el('div', { 'class': 'kc-actions' }, [
              KC.button(t('policies.confirm', { v: v }), function (ev) {
                ev.target.disabled = true;
                KC.api('POST', '/v1/policies/' + encodeURIComponent(v) + '/activate', {}).then(function (a) {
                  KC.forgetSegments();
                  KC.flash = { kind: 'ok', text: t('policies.activated', { v: a.version }), warnings: a.warnings.map(function (w) { return w.path + ': ' + w.message; }) };
                  KC.refresh();
                }, function (e) { confirmBox.replaceChildren(KC.failure(e)); });
              }, { 'class': 'kc-primary kc-danger', 'data-action': 'confirm-activate' }),
              KC.button(t('policies.cancel'), function () { confirmBox.replaceChildren(); }, { 'data-action': 'cancel' })
            ])
          ]);
          confirmBox.replaceChildren(dialog);
          dialog.scrollIntoView({ block: 'start' });
        }, function (e) { confirmBox.replaceChildren(KC.failure(e)); });
      }

      function setShadow(v) {
        var call = v ? KC.api('POST', '/v1/policies/' + encodeURIComponent(v) + '/shadow', {}) : KC.api('DELETE', '/v1/policies/shadow');
        call.then(function () { KC.refresh(); }, function (e) { notice.replaceChildren(KC.failure(e)); });
      }

      if (KC.flash) {
        notice.replaceChildren(KC.alert(KC.flash.kind, KC.flash.text, { 'data-flash': 'activated' }),
          KC.flash.warnings.length ? el('details', {}, [el('summary', { text: t('policies.warnings') + ' ' + KC.flash.warnings.length }),
            el('ul', {}, KC.flash.warnings.map(function (w) { return el('li', { text: w }); }))]) : null);
        KC.flash = null;
      }

      var table = KC.table([
        { label: t('col.version'), cell: function (v) { return el('strong', { text: v.version }); } },
        { label: t('col.author'), cell: function (v) { return v.author; } },
        { label: t('col.uploaded'), cell: function (v) { return KC.time(v.uploaded_at); } },
        { label: t('col.status'), name: 'status', cell: function (v) {
          return el('span', {}, [
            v.active ? el('span', { 'class': 'kc-badge kc-ok', 'data-active': 'true', text: t('policies.active') }) : null,
            el('span', { 'class': 'kc-badge ' + (v.status === 'draft' ? 'kc-warn' : 'kc-plain'), text: t('policies.' + v.status) })
          ]);
        } },
        { label: '', name: 'actions', cell: function (v) {
          if (v.active) return el('span', { 'class': 'kc-muted', text: t('policies.isActive') });
          return el('span', { 'class': 'kc-actions' }, [
            v.status === 'valid' ? KC.button(t('policies.activate'), function () { activate(v.version); }, { 'data-action': 'activate', 'data-version': v.version }) : null,
            KC.button(t('policies.shadowSet'), function () { setShadow(v.version); }, { 'data-action': 'shadow', 'data-version': v.version })
          ]);
        } }
      ], versions.slice().reverse(), function (v) { return v.version; }, { 'data-table': 'versions' });

      var from = KC.select('from', options, params.from || active);
      var to = KC.select('to', options, params.to || (newest !== active ? newest : active));
      var diffOut = el('div', {});
      var showDiff = function () {
        KC.api('GET', '/v1/policies/' + encodeURIComponent(to.value) + '/diff' + KC.query({ from: from.value }))
          .then(function (d) { diffOut.replaceChildren(diffList(d)); }, function (e) { diffOut.replaceChildren(KC.failure(e)); });
      };
      var compare = KC.section(t('policies.compare'), [
        el('form', { 'class': 'kc-filters', 'data-form': 'diff', onsubmit: function (ev) { ev.preventDefault(); showDiff(); } },
          [KC.field(t('policies.from'), from), KC.field(t('policies.to'), to), el('button', { type: 'submit', 'class': 'kc-primary', text: t('policies.show') })]),
        diffOut
      ]);

      var cand = KC.select('candidate', options, newest !== active ? newest : active);
      var since = el('input', { type: 'date', name: 'since' });
      var until = el('input', { type: 'date', name: 'until' });
      var btOut = el('div', {});
      var backtest = KC.section(t('policies.backtest'), [
        el('p', { 'class': 'kc-muted', text: t('policies.backtestText') }),
        el('form', { 'class': 'kc-filters', 'data-form': 'backtest', onsubmit: function (ev) {
          ev.preventDefault();
          btOut.replaceChildren(el('p', { 'class': 'kc-muted', text: t('loading') }));
          KC.api('POST', '/v1/policies/' + encodeURIComponent(cand.value) + '/backtest' + KC.query({ since: since.value, until: until.value }))
            .then(function (r) { btOut.replaceChildren(backtestView(r)); }, function (e) { btOut.replaceChildren(KC.failure(e)); });
        } }, [KC.field(t('policies.candidate'), cand), KC.field(t('policies.since'), since), KC.field(t('policies.until'), until),
          el('button', { type: 'submit', 'class': 'kc-primary', text: t('policies.run') })]),
        btOut
      ]);

      var shadowBox = KC.section(t('policies.shadow'), [
        el('p', { 'class': 'kc-muted', text: t('policies.shadowText') }),
        el('p', { 'data-shadow': shadow || '', text: shadow ? t('policies.shadowIs', { v: shadow }) : t('policies.shadowNone') }),
        shadowResults(shadowRun),
        shadow ? KC.button(t('policies.shadowStop'), function () { setShadow(null); }, { 'data-action': 'shadow-stop' }) : null
      ]);

      root.replaceChildren(el('h1', { text: t('policies.title') }), notice, confirmBox,
        KC.section(t('policies.versions'), [table]), compare, backtest, shadowBox);
      if (params.from || params.to) showDiff();
    });
  };
}());
