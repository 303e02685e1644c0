/* Zendesk glue for the kulanz widget (ticket_sidebar).
 *
 * Reads the ticket, its requester and the agent through the ZAF client. Two ways to run:
 *
 * - Signed (the shipped manifest): kulanz serves the page (`POST /zendesk/app`) after
 *   verifying the token Zendesk signed for this agent, and puts a desk session into it
 *   (`#kulanz-session`). Calls go straight to kulanz with that session, and the agent's
 *   role is the one kulanz maps them to on the server: nothing in this browser chooses it.
 * - Hosted (Zendesk serves `assets/iframe.html`, no session): every call goes through
 *   Zendesk's proxy (`client.request` with `secure: true`), which inserts the API key from
 *   the app's secure setting (`{{setting.api_key}}`), so the key never reaches the browser.
 *   The role is then only this browser's claim; kulanz bounds it by the key's `max_role`.
 */
(function () {
  'use strict';
  var ROLES = ['agent', 'senior', 'lead', 'manager'];
  var client = window.ZAFClient && window.ZAFClient.init();
  var root = document.getElementById('kulanz');
  if (!client) {
    window.KulanzWidget.mount(root, { transport: null });
    return;
  }

  /** kulanz through Zendesk's proxy; answers {status, body} like the fetch transport. */
  function zafTransport(baseUrl) {
    var base = String(baseUrl || '').replace(/\/+$/, '');
    return function (method, path, body) {
      var opts = {
        url: base + path,
        type: method,
        headers: { Authorization: 'Bearer {{setting.api_key}}' },
        secure: true,
        cors: false,
        dataType: 'json'
      };
      if (body !== undefined) {
        opts.contentType = 'application/json';
        opts.data = JSON.stringify(body);
      }
      return client.request(opts).then(function (data) {
        return { status: 200, body: data };
      }, function (err) {
        var json = err && err.responseJSON;
        if (!json && err && err.responseText) {
          try { json = JSON.parse(err.responseText); } catch (e) { json = null; }
        }
        return { status: (err && err.status) || 502, body: json };
      });
    };
  }

  /** The desk session kulanz put into the page it served, or null when Zendesk hosts it. */
  function deskSession() {
    var el = document.getElementById('kulanz-session');
    if (!el) return null;
    try {
      var s = JSON.parse(el.textContent);
      return s && s.token && s.role ? s : null;
    } catch (e) { return null; }
  }

  /** Hosted mode only: the highest role any of the agent's groups maps to in the app's
   *  settings. A claim, not a fact: kulanz refuses one above the key's `max_role`. */
  function claimedRole(groups, settings) {
    var map = {};
    try { map = JSON.parse(settings.role_by_group || '{}') || {}; } catch (e) { map = {}; }
    var best = ROLES.indexOf(settings.default_role) >= 0 ? settings.default_role : 'agent';
    (groups || []).forEach(function (g) {
      var r = map[g.name];
      if (ROLES.indexOf(r) > ROLES.indexOf(best)) best = r;
    });
    return best;
  }

  function field(id) { return id ? 'ticket.customField:custom_field_' + id : null; }

  function viaChannel(via) {
    var c = String((via && via.channel) || '').toLowerCase();
    if (c.indexOf('mail') >= 0) return 'email';
    if (c.indexOf('chat') >= 0 || c.indexOf('messag') >= 0 || c.indexOf('sms') >= 0) return 'chat';
    if (c.indexOf('voice') >= 0 || c.indexOf('phone') >= 0) return 'phone';
    if (c.indexOf('twitter') >= 0 || c.indexOf('facebook') >= 0 || c.indexOf('instagram') >= 0) return 'social';
    return 'web';
  }

  var session = deskSession();
  // The page's own path, less `/zendesk/app`: where kulanz is, behind any prefix.
  var kulanzBase = location.pathname.replace(/\/zendesk\/app\/?$/, '');

  client.invoke('resize', { width: '100%', height: '420px' });
  client.metadata().then(function (meta) {
    var s = meta.settings || {};
    var paths = ['ticket.id', 'ticket.requester', 'ticket.via', 'currentUser'];
    var custom = [field(s.category_field_id), field(s.severity_field_id), field(s.fault_field_id), field(s.amount_field_id)];
    return client.get(paths.concat(custom.filter(Boolean))).then(function (data) {
      var user = data.currentUser || {};
      var requester = data['ticket.requester'] || {};
      var pick = function (p, dflt) { var v = p && data[p]; return v === null || v === undefined || v === '' ? dflt : String(v); };
      var amount = pick(field(s.amount_field_id), '');
      // Signed: the user and role kulanz verified and mapped; hosted: what ZAF says.
      var agentId = 'zendesk-' + (session ? session.user_id : user.id);
      var request = {
        ticket_id: String(data['ticket.id']),
        customer_id: requester.externalId || ('zendesk-user-' + requester.id),
        agent: { id: agentId, role: session ? session.role : claimedRole(user.groups, s) },
        complaint: {
          category: pick(field(s.category_field_id), ''),
          severity: pick(field(s.severity_field_id), 'medium'),
          channel: viaChannel(data['ticket.via']),
          fault: pick(field(s.fault_field_id), 'unclear')
        }
      };
      if (amount) request.complaint.amount_at_stake = { amount: amount.replace(',', '.'), currency: s.currency || 'EUR' };
      if (!request.complaint.category) delete request.complaint;
      var widget = window.KulanzWidget.mount(root, {
        transport: session
          ? window.KulanzWidget.fetchTransport(kulanzBase, session.token)
          : zafTransport(s.kulanz_url),
        locale: user.locale,
        request: request,
        agentId: agentId,
        role: request.agent.role,
        onState: function () {
          client.invoke('resize', { width: '100%', height: Math.max(120, document.body.scrollHeight) + 'px' });
        }
      });
      // A changed category or amount in the open ticket asks again (a new decision).
      client.on('ticket.save', function () { widget.load(); });
      return widget;
    });
  }).catch(function (e) {
    window.KulanzWidget.mount(root, { transport: function () { return Promise.reject(e); } });
  });
})();
