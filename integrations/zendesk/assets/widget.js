/* kulanz sidebar widget. One file, no build step, no dependencies.
 *
 * KulanzWidget.mount(root, options) renders a decision for a ticket. It never holds a
 * secret of its own: every call goes through `options.transport`, which the embedding app
 * provides (a fetch with the key it was handed, or Zendesk's proxy with a secure setting).
 * All data is written with textContent, never as HTML, so policy text cannot inject code.
 * The Zendesk app ships a byte-identical copy of this file (a test checks).
 */
(function () {
  'use strict';

  var TEXT = {
    en: {
      brand: 'kulanz', loading: 'Loading the recommendation…', ticket: 'Ticket',
      recommended: 'Recommended gesture', within: 'Within your authority',
      needs: 'Needs approval by {role}', limit: 'Your limit: {limit}',
      respondBy: 'Respond by', overdue: 'overdue', inHours: 'in {h} h', inMinutes: 'in {m} min',
      value: 'Customer', valueAtRisk: 'Value at risk', segment: 'Segment',
      detractor: 'Detractor', lapsed: 'Lapsed tier', churn: 'Churn risk: {level}',
      reasons: 'Why', guards: 'Limits applied', alternatives: 'Alternatives', script: 'Suggested wording',
      callback: 'Book a call back within {h} h', escalate: 'Escalate to {role}: {text}',
      outcome: 'Record the outcome', asRecommended: 'Granted as recommended',
      other: 'Granted other', escalated: 'Escalated', declined: 'Declined',
      gesture: 'Gesture', amount: 'Amount', approvedBy: 'Approved by (required above your limit)',
      approve: 'Approve {amount}', approvedByWho: 'Approved by {who}, up to {amount}',
      note: 'Note', save: 'Save', cancel: 'Cancel', saving: 'Saving…',
      recorded: 'Outcome recorded', recordedAs: '{status}: {what}', recordedBy: 'by {who}, {when}',
      errorTitle: 'kulanz could not answer', retry: 'Try again',
      keyHint: 'check the API key in the app settings (it needs the decide scope).',
      noKey: 'This page must be opened from your help desk, which passes it the API key.',
      unknownTitle: 'Customer not known to kulanz',
      unknownText: 'No value record for this customer, so the policy floor applies.',
      noDecisionTitle: 'No recommendation yet',
      noDecisionText: 'This ticket has no decision yet and lacks the fields to ask for one (customer, category).',
      none: 'No gesture', policy: 'Policy {v}',
      nowOption: 'Within your authority now', grantOption: 'Grant {what} now', detail: 'Numbers',
      status: { granted_as_recommended: 'Granted as recommended', granted_other: 'Granted other',
        escalated: 'Escalated', declined: 'Declined' },
      churnLevel: { low: 'low', medium: 'medium', high: 'high' },
      roles: { agent: 'agent', senior: 'senior agent', lead: 'team lead', manager: 'manager' },
      segments: { top: 'Top customer', high: 'High value', standard: 'Regular', 'new': 'New or occasional',
        unknown: 'Unknown' },
      gestures: { refund: 'Refund', partial_refund: 'Partial refund', voucher: 'Voucher',
        credit: 'Account credit', upgrade: 'Upgrade', free_service: 'Free service',
        apology: 'Personal apology', callback: 'Call back', none: 'No gesture' }
    },
    de: {
      brand: 'kulanz', loading: 'Empfehlung wird geladen…', ticket: 'Ticket',
      recommended: 'Empfohlene Kulanz', within: 'Innerhalb Ihrer Befugnis',
      needs: 'Freigabe durch {role} nötig', limit: 'Ihr Limit: {limit}',
      respondBy: 'Antworten bis', overdue: 'überfällig', inHours: 'in {h} Std.', inMinutes: 'in {m} Min.',
      value: 'Kunde', valueAtRisk: 'Gefährdeter Wert', segment: 'Segment',
      detractor: 'Kritiker (NPS)', lapsed: 'Status gesunken', churn: 'Abwanderungsrisiko: {level}',
      reasons: 'Begründung', guards: 'Angewandte Grenzen', alternatives: 'Alternativen',
      script: 'Formulierungsvorschlag',
      callback: 'Rückruf innerhalb von {h} Std. einplanen', escalate: 'An {role} eskalieren: {text}',
      outcome: 'Ergebnis erfassen', asRecommended: 'Wie empfohlen gewährt',
      other: 'Anders gewährt', escalated: 'Eskaliert', declined: 'Abgelehnt',
      gesture: 'Geste', amount: 'Betrag', approvedBy: 'Freigegeben von (über Ihrem Limit Pflicht)',
      approve: '{amount} freigeben', approvedByWho: 'Freigegeben von {who}, bis {amount}',
      note: 'Notiz', save: 'Speichern', cancel: 'Abbrechen', saving: 'Wird gespeichert…',
      recorded: 'Ergebnis erfasst', recordedAs: '{status}: {what}', recordedBy: 'von {who}, {when}',
      errorTitle: 'kulanz konnte nicht antworten', retry: 'Erneut versuchen',
      keyHint: 'bitte den API-Schlüssel in den App-Einstellungen prüfen (Scope decide nötig).',
      noKey: 'Diese Seite muss aus Ihrem Helpdesk geöffnet werden, der ihr den API-Schlüssel übergibt.',
      unknownTitle: 'Kunde ist kulanz nicht bekannt',
      unknownText: 'Kein Kundenwert hinterlegt, daher gilt die Mindestregel der Richtlinie.',
      noDecisionTitle: 'Noch keine Empfehlung',
      noDecisionText: 'Für dieses Ticket gibt es noch keine Entscheidung, und es fehlen Angaben (Kunde, Kategorie).',
      none: 'Keine Geste', policy: 'Richtlinie {v}',
      nowOption: 'Jetzt in Ihrer Befugnis', grantOption: '{what} jetzt gewähren', detail: 'Zahlen',
      status: { granted_as_recommended: 'Wie empfohlen gewährt', granted_other: 'Anders gewährt',
        escalated: 'Eskaliert', declined: 'Abgelehnt' },
      churnLevel: { low: 'niedrig', medium: 'mittel', high: 'hoch' },
      roles: { agent: 'Agent', senior: 'Senior-Agent', lead: 'Teamleitung', manager: 'Management' },
      segments: { top: 'Top-Kunde', high: 'Hoher Wert', standard: 'Stammkunde', 'new': 'Neu oder gelegentlich',
        unknown: 'Unbekannt' },
      gestures: { refund: 'Erstattung', partial_refund: 'Teilerstattung', voucher: 'Gutschein',
        credit: 'Guthaben', upgrade: 'Upgrade', free_service: 'Kostenlose Leistung',
        apology: 'Persönliche Entschuldigung', callback: 'Rückruf', none: 'Keine Geste' }
    }
  };

  /** A BCP 47 tag as the API accepts it (`de_DE` becomes `de-DE`), or null. */
  function apiLocale(locale) {
    var tag = String(locale || '').replace(/_/g, '-');
    return /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag) && tag.length <= 35 ? tag : null;
  }

  function pickLang(locale) {
    return String(locale || '').toLowerCase().indexOf('de') === 0 ? 'de' : 'en';
  }

  function fill(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, function (_, k) { return vars && k in vars ? vars[k] : ''; });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'onclick') e.addEventListener('click', attrs[k]);
      else if (k === 'onsubmit') e.addEventListener('submit', attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function Widget(root, opts) {
    this.root = root;
    this.opts = opts;
    this.locale = opts.locale || (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
    this.lang = pickLang(this.locale);
    this.t = TEXT[this.lang];
    document.documentElement.lang = this.lang;
  }

  /** A gesture's amount, or '' for a non-monetary one (an apology carries no sum). */
  Widget.prototype.sum = function (m) {
    return m && Number(m.amount) !== 0 ? this.money(m) : '';
  };

  Widget.prototype.money = function (m) {
    if (!m) return '';
    try {
      // Display only: the decimal string is exact; Number() is fine for two decimals.
      return new Intl.NumberFormat(this.locale, { style: 'currency', currency: m.currency }).format(Number(m.amount));
    } catch (e) {
      return m.amount + ' ' + m.currency;
    }
  };

  Widget.prototype.gestureName = function (g) {
    return this.t.gestures[g] || String(g).replace(/_/g, ' ');
  };

  Widget.prototype.roleName = function (r) { return this.t.roles[r] || r; };

  Widget.prototype.dateTime = function (d) {
    return new Intl.DateTimeFormat(this.locale, {
      weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit'
    }).format(d);
  };

  Widget.prototype.show = function (state, nodes) {
    this.root.setAttribute('data-state', state);
    this.root.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
    this.root.textContent = '';
    var self = this;
    nodes.forEach(function (n) { if (n) self.root.appendChild(n); });
    if (this.opts.onState) this.opts.onState(state);
  };

  Widget.prototype.loading = function () {
    this.show('loading', [
      el('div', { 'class': 'kz-top' }, [el('span', { 'class': 'kz-brand', text: this.t.brand })]),
      el('p', { 'class': 'kz-loading', role: 'status', text: this.t.loading }),
      // Classes, not style attributes: the page's CSP allows no inline styles.
      el('div', { 'class': 'kz-skel kz-skel-hero', 'aria-hidden': 'true' }),
      el('div', { 'class': 'kz-skel kz-skel-line', 'aria-hidden': 'true' }),
      el('div', { 'class': 'kz-skel kz-skel-block', 'aria-hidden': 'true' })
    ]);
  };

  Widget.prototype.message = function (state, icon, title, text, retry) {
    var self = this;
    this.show(state, [
      el('div', { 'class': 'kz-top' }, [el('span', { 'class': 'kz-brand', text: this.t.brand })]),
      el('section', { 'class': 'kz-state', role: state === 'error' ? 'alert' : 'status' }, [
        el('div', { 'class': 'kz-icon', 'aria-hidden': 'true', text: icon }),
        el('h1', { text: title }),
        el('p', { text: text }),
        retry ? el('button', { type: 'button', onclick: function () { self.load(); }, text: this.t.retry }) : null
      ])
    ]);
  };

  Widget.prototype.fail = function (err) {
    var text = err && err.message ? err.message : String(err);
    if (err && (err.code === 'unauthorized' || err.code === 'forbidden')) text += ' — ' + this.t.keyHint;
    this.message('error', '⚠', this.t.errorTitle, text, !err || err.retry !== false);
  };

  /** Call kulanz through the embedding app's transport; reject with the API's message. */
  Widget.prototype.call = function (method, path, body) {
    return this.opts.transport(method, path, body).then(function (r) {
      if (r.status >= 200 && r.status < 300) return r.body;
      var e = (r.body && r.body.error) || {};
      var err = new Error((e.code ? e.code + ': ' : '') + (e.message || ('HTTP ' + r.status)));
      err.status = r.status;
      err.code = e.code;
      throw err;
    });
  };

  Widget.prototype.load = function () {
    var self = this, o = this.opts, req = o.request || {};
    if (!o.transport) { this.fail({ message: this.t.noKey, retry: false }); return Promise.resolve(); }
    this.loading();
    var p;
    if (o.decisionId) {
      p = this.call('GET', '/v1/decisions/' + encodeURIComponent(o.decisionId));
    } else if (req.ticket_id) {
      // A webhook may already have decided for this ticket: show that, don't decide twice.
      p = this.call('GET', '/v1/tickets/' + encodeURIComponent(req.ticket_id) + '/decision')
        .catch(function (e) {
          if (e.status !== 404) throw e;
          if (!req.customer_id || !req.complaint || !req.complaint.category) return null;
          return self.call('POST', '/v1/decisions', self.withLocale(req));
        });
    } else {
      p = this.call('POST', '/v1/decisions', this.withLocale(req));
    }
    return p.then(function (d) {
      if (!d) self.message('empty', 'ℹ', self.t.noDecisionTitle, self.t.noDecisionText, false);
      else self.render(d);
    }, function (e) { self.fail(e); });
  };

  /** The request in the agent's locale, so reasons and script come in their language,
   *  and in the configured market (`market` in the URL or the init message), if any. */
  Widget.prototype.withLocale = function (req) {
    var tag = apiLocale(this.locale);
    var market = this.opts.market;
    if ((req.locale || !tag) && (req.market || !market)) return req;
    var out = {};
    Object.keys(req).forEach(function (k) { out[k] = req[k]; });
    if (!out.locale && tag) out.locale = tag;
    if (!out.market && market) out.market = market;
    return out;
  };

  /** A reason: its one line, and its numbers behind a disclosure when it has them. */
  Widget.prototype.reasonNode = function (r) {
    if (!r.detail) return el('li', { text: r.text });
    return el('li', {}, [el('details', { 'class': 'kz-detail' }, [
      el('summary', { text: r.text }),
      el('p', { 'class': 'kz-note', text: r.detail })
    ])]);
  };

  /** Above authority: what the agent may grant at once, with a button to grant it. */
  Widget.prototype.optionNode = function (d) {
    var t = this.t, self = this, o = d.recommendation.within_authority_option;
    if (!o || d.authority.within_authority || d.outcome || d.approval) return null;
    var what = this.gestureName(o.gesture) + (this.sum(o.amount) ? ' ' + this.money(o.amount) : '');
    var grant = el('button', { type: 'button', 'data-action': 'grant_option', text: fill(t.grantOption, { what: what }) });
    grant.addEventListener('click', function () {
      self.submit({ status: 'granted_other', granted: { gesture: o.gesture, amount: o.amount } }, grant);
    });
    return el('div', { 'class': 'kz-alert kz-option', 'data-option': o.gesture, 'data-option-amount': o.amount.amount }, [
      el('strong', { text: t.nowOption }), el('br'), el('span', { text: o.text }), el('br'), grant
    ]);
  };

  Widget.prototype.render = function (d) {
    this.decision = d;
    var t = this.t, self = this, rec = d.recommendation, auth = d.authority, sig = d.signals || {};
    this.root.setAttribute('data-decision-id', d.decision_id);
    var nodes = [el('div', { 'class': 'kz-top' }, [
      el('span', { 'class': 'kz-brand', text: t.brand }),
      el('span', { text: t.ticket + ' ' + d.ticket_id })
    ])];
    if (!d.customer.known) {
      nodes.push(el('div', { 'class': 'kz-alert kz-warn', role: 'status', 'data-unknown': 'true' }, [
        el('strong', { text: t.unknownTitle }), el('br'), el('span', { text: t.unknownText })
      ]));
    }
    var option = this.optionNode(d);
    var authBadge = auth.within_authority
      ? el('span', { 'class': 'kz-badge kz-ok', 'data-authority': 'within', text: '✓ ' + t.within })
      : el('span', { 'class': 'kz-badge kz-warn', 'data-authority': 'approval',
        text: '⚠ ' + fill(t.needs, { role: this.roleName(auth.approver_role) }) });
    nodes.push(el('section', { 'class': 'kz-hero', 'aria-label': t.recommended }, [
      el('p', { 'class': 'kz-gesture', 'data-gesture': rec.gesture, text: this.gestureName(rec.gesture) }),
      this.sum(rec.amount) ? el('p', { 'class': 'kz-amount', 'data-amount': rec.amount.amount, text: this.money(rec.amount) }) : null,
      authBadge,
      this.approvalNode(d),
      option,
      el('p', { 'class': 'kz-note', text: fill(t.limit, { limit: this.money(auth.limit) }) + ' · ' +
        this.roleName(auth.role) }),
      this.due(d)
    ]));
    var chips = [el('li', { 'class': 'kz-chip', text: t.segments[d.customer.segment] || d.customer.segment })];
    if (sig.detractor) chips.push(el('li', { 'class': 'kz-chip kz-bad', text: t.detractor }));
    if (sig.lapsed_tier) chips.push(el('li', { 'class': 'kz-chip kz-warn', text: t.lapsed }));
    if (sig.churn_risk) {
      chips.push(el('li', { 'class': 'kz-chip' + (sig.churn_risk === 'high' ? ' kz-bad' : sig.churn_risk === 'medium' ? ' kz-warn' : ''),
        text: fill(t.churn, { level: t.churnLevel[sig.churn_risk] || sig.churn_risk }) }));
    }
    nodes.push(el('h2', { text: t.value }));
    nodes.push(el('div', { 'class': 'kz-value' }, [
      el('span', { text: t.valueAtRisk }),
      el('strong', { text: d.customer.known ? this.money(d.customer.value_at_risk) : '—' })
    ]));
    nodes.push(el('ul', { 'class': 'kz-chips', 'aria-label': t.value }, chips));
    if (d.reasons && d.reasons.length) {
      nodes.push(el('h2', { text: t.reasons }));
      // The within-authority option has its own box above; the list keeps the rest.
      var shown = d.reasons.filter(function (r) { return r.rule !== 'within-authority' || !option; });
      nodes.push(el('ul', { 'class': 'kz-list' }, shown.map(function (r) { return self.reasonNode(r); })));
    }
    if (d.guards && d.guards.length) {
      nodes.push(el('h2', { text: t.guards }));
      nodes.push(el('ul', { 'class': 'kz-list' }, d.guards.map(function (g) {
        return g.passes_when ? el('li', {}, [el('span', { text: g.text }), el('br'),
          el('span', { 'class': 'kz-note', text: g.passes_when })]) : el('li', { text: g.text });
      })));
    }
    var extra = [];
    if (rec.callback) extra.push(el('li', { text: fill(t.callback, { h: rec.callback.within_hours }) }));
    if (rec.escalation) extra.push(el('li', { text: fill(t.escalate, { role: this.roleName(rec.escalation.to_role), text: rec.escalation.text }) }));
    if (extra.length) nodes.push(el('ul', { 'class': 'kz-list' }, extra));
    if (rec.alternatives && rec.alternatives.length) {
      nodes.push(el('h2', { text: t.alternatives }));
      nodes.push(el('ul', { 'class': 'kz-alts' }, rec.alternatives.map(function (a) {
        return el('li', {}, [el('span', { text: self.gestureName(a.gesture) }), el('strong', { text: self.sum(a.amount) })]);
      })));
    }
    if (rec.agent_script) {
      nodes.push(el('h2', { text: t.script }));
      nodes.push(el('blockquote', { 'class': 'kz-script', text: rec.agent_script }));
    }
    nodes.push(el('h2', { id: 'kz-outcome-h', text: d.outcome ? t.recorded : t.outcome }));
    this.outcomeBox = el('section', { 'aria-labelledby': 'kz-outcome-h' });
    nodes.push(this.outcomeBox);
    nodes.push(el('p', { 'class': 'kz-note', text: fill(t.policy, { v: d.policy.version }) }));
    this.show(d.outcome ? 'recorded' : (d.customer.known ? 'recommendation' : 'unknown'), nodes);
    if (d.outcome) this.showRecorded(d.outcome); else this.showActions();
  };

  Widget.prototype.due = function (d) {
    var created = new Date(d.created_at);
    if (isNaN(created.getTime())) return null;
    var due = new Date(created.getTime() + d.recommendation.respond_within_hours * 3600 * 1000);
    var left = due.getTime() - Date.now(), t = this.t, rel;
    if (left < 0) rel = t.overdue;
    else if (left < 3600 * 1000) rel = fill(t.inMinutes, { m: Math.round(left / 60000) });
    else rel = fill(t.inHours, { h: Math.round(left / 3600000) });
    return el('p', { 'class': 'kz-due' + (left < 0 ? ' kz-bad' : ''), 'data-due': due.toISOString() }, [
      el('span', { text: t.respondBy + ' ' }),
      el('strong', { text: this.dateTime(due) }),
      el('span', { text: ' (' + rel + ')' })
    ]);
  };

  /** Above the deciding agent's authority: the approval on record, or, for a viewer whose
   *  role limit covers the amount, a button to give it. The server checks both again. */
  Widget.prototype.approvalNode = function (d) {
    var t = this.t, self = this, auth = d.authority, rec = d.recommendation;
    if (auth.within_authority || d.outcome) return null;
    if (d.approval) {
      return el('p', { 'class': 'kz-badge kz-ok', 'data-approval': 'given',
        text: '✓ ' + fill(t.approvedByWho, { who: d.approval.approver_id, amount: this.money(d.approval.amount) }) });
    }
    var mine = (auth.role_limits || []).filter(function (r) { return r.role === self.opts.role; })[0];
    if (!mine || !this.opts.agentId || Number(mine.limit.amount) < Number(rec.amount.amount)) return null;
    var button = el('button', { type: 'button', 'data-action': 'approve',
      text: fill(t.approve, { amount: this.money(rec.amount) }) });
    button.addEventListener('click', function () {
      button.disabled = true;
      self.call('POST', '/v1/decisions/' + encodeURIComponent(d.decision_id) + '/approval',
        { approver: { id: self.opts.agentId, role: self.opts.role } })
        .then(function (a) {
          self.decision.approval = a;
          self.render(self.decision);
        }, function (e) {
          button.disabled = false;
          if (self.alertBox) {
            self.alertBox.textContent = '';
            self.alertBox.appendChild(el('div', { 'class': 'kz-alert kz-bad', role: 'alert', text: e.message }));
          }
        });
    });
    return button;
  };

  Widget.prototype.showActions = function () {
    var t = this.t, self = this, rec = this.decision.recommendation;
    var primary = el('button', { type: 'button', 'class': 'kz-primary', 'data-action': 'granted_as_recommended',
      text: t.asRecommended });
    primary.addEventListener('click', function () {
      // Above the agent's authority the grant needs an approval: with one on record it
      // names the approver; without, the form asks (and the server explains).
      var approval = self.decision.approval, body = { granted: { gesture: rec.gesture, amount: rec.amount },
        status: 'granted_as_recommended' };
      if (self.decision.authority.within_authority) self.submit(body, primary);
      else if (approval) { body.approved_by = approval.approver_id; self.submit(body, primary); }
      else self.form('granted_as_recommended');
    });
    var btn = function (kind, label) {
      return el('button', { type: 'button', 'data-action': kind, text: label, onclick: function () { self.form(kind); } });
    };
    this.outcomeBox.textContent = '';
    this.outcomeBox.appendChild(el('div', { 'class': 'kz-actions' }, [
      primary, btn('granted_other', t.other), btn('escalated', t.escalated), btn('declined', t.declined)
    ]));
    this.alertBox = el('div', { 'aria-live': 'assertive' });
    this.outcomeBox.appendChild(this.alertBox);
  };

  Widget.prototype.form = function (kind) {
    var t = this.t, self = this, d = this.decision, rec = d.recommendation;
    var fields = [], gesture, amount, approver, note, options = [rec].concat(rec.alternatives || []);
    if (rec.within_authority_option) options.push(rec.within_authority_option);
    if (kind === 'granted_other') {
      gesture = el('select', { id: 'kz-gesture' }, options.map(function (a, i) {
        var sum = self.sum(a.amount);
        return el('option', { value: String(i), text: self.gestureName(a.gesture) + (sum ? ' · ' + sum : '') });
      }));
      amount = el('input', { id: 'kz-amount', inputmode: 'decimal', value: rec.amount.amount, autocomplete: 'off' });
      gesture.addEventListener('change', function () { amount.value = options[Number(gesture.value)].amount.amount; });
      fields.push(el('label', { 'for': 'kz-gesture', text: t.gesture }), gesture,
        el('label', { 'for': 'kz-amount', text: t.amount + ' (' + rec.amount.currency + ')' }), amount);
    }
    if (kind === 'granted_as_recommended' || kind === 'granted_other') {
      approver = el('input', { id: 'kz-approver', autocomplete: 'off',
        value: d.approval ? d.approval.approver_id : '',
        required: kind === 'granted_as_recommended' ? 'required' : null });
      fields.push(el('label', { 'for': 'kz-approver', text: t.approvedBy }), approver);
    }
    note = el('textarea', { id: 'kz-note' });
    if (kind === 'escalated' && !d.authority.within_authority) note.value = this.roleName(d.authority.approver_role);
    fields.push(el('label', { 'for': 'kz-note', text: t.note }), note);
    var save = el('button', { type: 'submit', 'class': 'kz-primary', 'data-action': 'save', text: t.save });
    var form = el('form', { 'data-form': kind, 'aria-label': t.status[kind] }, fields.concat([
      el('div', { 'class': 'kz-row' }, [
        el('button', { type: 'button', text: t.cancel, onclick: function () { self.showActions(); } }), save
      ])
    ]));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = { status: kind };
      if (kind === 'granted_as_recommended') body.granted = { gesture: rec.gesture, amount: rec.amount };
      else if (kind === 'granted_other') {
        var pick = options[Number(gesture.value)];
        body.granted = { gesture: pick.gesture, amount: { amount: amount.value.trim().replace(',', '.'), currency: rec.amount.currency } };
      } else body.granted = { gesture: 'none' };
      if (approver && approver.value.trim()) body.approved_by = approver.value.trim();
      if (note.value.trim()) body.note = note.value.trim();
      self.submit(body, save);
    });
    this.outcomeBox.textContent = '';
    this.outcomeBox.appendChild(form);
    this.alertBox = el('div', { 'aria-live': 'assertive' });
    this.outcomeBox.appendChild(this.alertBox);
    form.querySelector('select, input, textarea').focus();
  };

  Widget.prototype.submit = function (body, button) {
    var self = this, t = this.t;
    if (this.opts.agentId && !body.recorded_by) body.recorded_by = this.opts.agentId;
    button.disabled = true;
    var label = button.textContent;
    button.textContent = t.saving;
    return this.call('POST', '/v1/decisions/' + encodeURIComponent(this.decision.decision_id) + '/outcome', body)
      .then(function (o) {
        self.decision.outcome = o;
        self.render(self.decision);
        var h = document.getElementById('kz-outcome-h');
        if (h) { h.setAttribute('tabindex', '-1'); h.focus(); }
        if (self.opts.onOutcome) self.opts.onOutcome(o, self.decision);
      }, function (e) {
        button.disabled = false;
        button.textContent = label;
        self.alertBox.textContent = '';
        self.alertBox.appendChild(el('div', { 'class': 'kz-alert kz-bad', role: 'alert', text: e.message }));
      });
  };

  Widget.prototype.showRecorded = function (o) {
    var t = this.t;
    var sum = this.sum(o.granted.amount);
    var what = this.gestureName(o.granted.gesture) + (sum ? ' ' + sum : '');
    var when = o.recorded_at ? this.dateTime(new Date(o.recorded_at)) : '';
    this.outcomeBox.appendChild(el('div', { 'class': 'kz-alert kz-ok kz-done', role: 'status', 'data-outcome': o.status || 'recorded' }, [
      el('strong', { text: '✓ ' + (o.granted.gesture === 'none' && o.status
        ? t.status[o.status] || t.recorded
        : fill(t.recordedAs, { status: t.status[o.status] || t.recorded, what: what })) }),
      el('br'),
      el('span', { text: fill(t.recordedBy, { who: o.recorded_by, when: when }) }),
      o.note ? el('p', { 'class': 'kz-note', text: o.note }) : null
    ]));
  };

  /** A transport over fetch with a bearer key, for the standalone page. */
  function fetchTransport(base, key) {
    return function (method, path, body) {
      var init = { method: method, headers: { Authorization: 'Bearer ' + key }, credentials: 'omit' };
      if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
      return fetch(base + path, init).then(function (r) {
        return r.text().then(function (txt) {
          var json = null;
          try { json = txt ? JSON.parse(txt) : null; } catch (e) { json = null; }
          return { status: r.status, body: json };
        });
      });
    };
  }

  /** Build a decision request from flat parameters (`customer`, `category`, `amount`, ...). */
  function requestFrom(p) {
    var req = { ticket_id: p.ticket || ('widget-' + Date.now()) };
    if (p.customer) {
      req.customer_id = p.customer;
      req.agent = { id: p.agent || 'widget', role: p.role || 'agent' };
      req.complaint = {
        category: p.category, severity: p.severity || 'medium', channel: p.channel || 'web',
        fault: p.fault || 'unclear'
      };
      if (p.amount) req.complaint.amount_at_stake = { amount: p.amount, currency: p.currency || 'EUR' };
    }
    return req;
  }

  function params(str) {
    var out = {};
    String(str || '').replace(/^#/, '').split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('=');
      var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      out[k] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, ' '));
    });
    return out;
  }

  /** The standalone page: settings come from the URL fragment (never sent to any server)
   *  or from the parent window by postMessage `{type: "kulanz:init", key, ...}`. */
  function bootStandalone(root) {
    var base = location.pathname.replace(/\/widget\/?$/, '');
    var start = function (p) {
      var w = new Widget(root, {
        transport: p.key ? fetchTransport(base, p.key) : null,
        locale: p.locale, market: p.market, request: p.request || requestFrom(p), decisionId: p.decision,
        agentId: p.agent, role: p.role || (p.request && p.request.agent && p.request.agent.role),
        onState: function (s) { if (window.parent !== window) window.parent.postMessage({ type: 'kulanz:state', state: s }, '*'); }
      });
      w.load();
      return w;
    };
    var frag = params(location.hash);
    if (frag.key) {
      // Drop the key from the address bar and history as soon as it is read.
      history.replaceState(null, '', location.pathname + location.search);
      return start(frag);
    }
    new Widget(root, { locale: frag.locale }).loading();
    if (window.parent === window) {
      setTimeout(function () { if (root.getAttribute('data-state') === 'loading') start(frag); }, 4000);
      return null;
    }
    window.addEventListener('message', function onInit(ev) {
      if (ev.source !== window.parent || !ev.data || ev.data.type !== 'kulanz:init') return;
      window.removeEventListener('message', onInit);
      var d = ev.data;
      start({ key: d.key, locale: d.locale, market: d.market, request: d.request, decision: d.decision_id, agent: d.agent_id });
    });
    window.parent.postMessage({ type: 'kulanz:ready' }, '*');
    return null;
  }

  window.KulanzWidget = {
    mount: function (root, opts) { var w = new Widget(root, opts); w.load(); return w; },
    requestFrom: requestFrom,
    fetchTransport: fetchTransport,
    text: TEXT
  };

  var me = document.currentScript;
  if (me && me.getAttribute('data-kulanz-boot') === 'standalone') {
    var root = document.getElementById('kulanz');
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { bootStandalone(root); });
    else bootStandalone(root);
  }
})();
