/* kulanz console: start-up. Sign-in (the key checked once against GET /v1/policies, then
 * kept in sessionStorage), the navigation, the language switch, and the hash router that
 * renders one page at a time. `#console` reports its state in data-state (login,
 * loading, ready, error) and the page in data-page, for people and tests alike. */
(function () {
  'use strict';
  var t = KC.t, el = KC.el;
  var root = document.getElementById('console');
  var NAV = ['overview', 'fairness', 'at-risk', 'policies', 'value'];
  var generation = 0;
  var shownPage = '';

  function state(s, page) {
    root.setAttribute('data-state', s);
    root.setAttribute('aria-busy', s === 'loading' ? 'true' : 'false');
    if (page !== undefined) root.setAttribute('data-page', page);
  }

  function chrome(page) {
    document.documentElement.lang = KC.lang();
    document.title = t('title');
    var nav = document.getElementById('kc-nav');
    var signedIn = !!KC.key();
    nav.replaceChildren.apply(nav, signedIn ? NAV.map(function (p) {
      return el('a', { href: KC.href(p), 'data-nav': p, 'aria-current': p === page ? 'page' : null, text: t('nav.' + p) });
    }) : []);
    Array.prototype.forEach.call(document.querySelectorAll('[data-lang]'), function (b) {
      b.setAttribute('aria-pressed', b.getAttribute('data-lang') === KC.lang() ? 'true' : 'false');
    });
    var out = document.getElementById('kc-logout');
    out.textContent = t('logout');
    out.hidden = !signedIn;
  }

  function login(message) {
    chrome('');
    var input = el('input', { type: 'password', id: 'kc-key', name: 'key', autocomplete: 'off', required: true, spellcheck: 'false' });
    root.replaceChildren(el('form', { 'class': 'kc-card kc-login', 'data-form': 'login', onsubmit: function (ev) {
      ev.preventDefault();
      KC.setKey(input.value.trim());
      state('loading');
      KC.api('GET', '/v1/policies').then(function () { render(); }, function (e) {
        KC.clearKey();
        login(t('login.wrong', { message: e.code + ': ' + e.message }));
      });
    } }, [
      el('h1', { text: t('login.title') }),
      el('p', { text: t('login.text') }),
      KC.field(t('login.key'), input),
      el('p', { 'class': 'kc-muted', text: t('login.scopes') }),
      message ? KC.alert('bad', message, { 'data-error': 'login' }) : null,
      el('button', { type: 'submit', 'class': 'kc-primary', text: t('login.submit') })
    ]));
    state('login', 'login');
    input.focus();
  }

  function render() {
    if (!KC.key()) { login(); return; }
    var r = KC.route();
    var page = KC.pages[r.page] ? r.page : 'overview';
    var mine = ++generation;
    var navPage = page === 'decisions' || page === 'customer' ? '' : page;
    chrome(navPage);
    state('loading', page);
    root.setAttribute('data-generation', String(mine));
    var holder = el('div', { 'class': 'kc-page', 'data-page': page });
    var started = performance.now();
    Promise.resolve().then(function () { return KC.pages[page](holder, r.params); }).then(function () {
      if (mine !== generation) return;
      root.replaceChildren(holder);
      // A page opens at its top, not where the previous one was scrolled to.
      if (page !== shownPage) window.scrollTo(0, 0);
      shownPage = page;
      // How long this page took from the route to its data drawn, for the performance check.
      root.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));
      // Since the document started loading: the whole page load when it was opened afresh.
      root.setAttribute('data-ready-ms', String(Math.round(performance.now())));
      state('ready', page);
    }, function (err) {
      if (mine !== generation) return;
      if (err && err.status === 401) { KC.clearKey(); login(t('login.wrong', { message: err.code + ': ' + err.message })); return; }
      root.replaceChildren(KC.failure(err), KC.button(t('retry'), render, { 'data-action': 'retry' }));
      state('error', page);
    });
  }
  KC.refresh = render;

  Array.prototype.forEach.call(document.querySelectorAll('[data-lang]'), function (b) {
    b.addEventListener('click', function () { KC.setLang(b.getAttribute('data-lang')); render(); });
  });
  document.getElementById('kc-logout').addEventListener('click', function () {
    KC.clearKey();
    login();
  });
  window.addEventListener('hashchange', render);
  render();
}());
