"""Schemathesis hooks for kulanz, loaded by scripts/schemathesis.sh (SCHEMATHESIS_HOOKS).

Two things the OpenAPI document cannot say, so that `positive_data_acceptance` can hold
the server to every schema-valid request without exceptions for them:

1. Rules that depend on more than the request. Schema-valid data is made to follow them,
   in the parts of a case schemathesis generated as valid (positive), never in the parts it
   generated to be refused:
   - the active policy's vocabulary: roles, categories, segments and gestures are the
     policy's (the contract names them so: an unknown one is a 422 naming the allowed
     values), a `market` is one that has an active policy (the same: an unknown market is
     a 422 naming the known ones), and amounts of a decision are in the policy currency.
     Read from the policy the demo server runs, policies/goodwill.json;
   - rules between fields: a customer record's amounts are in the record's currency and
     `last_order_at` is not before `first_order_at`; a backtest's `until` is after
     `since`; an outcome that was escalated or declined granted `none`;
   - rules across requests: a customer's orders are all in one currency (the demo's are
     in the policy currency);
   - an `Idempotency-Key` names one request: sent again with another body it is rightly a
     422, so each generated request gets a key of its own.
2. NDJSON bodies (`POST /v1/customers/import`, `/v1/orders`, `/v1/nps`) are documented
   as a string of lines, sent as their bytes (schemathesis has no serializer for
   `application/x-ndjson`). On the wire every body of a text media type is a string, so a
   "schema-violating" NDJSON body (a JSON `null` or `[]` where the schema says string) is
   just another text, judged line by line and answered 2xx with the bad lines listed, as
   documented: those cases test nothing and are left out.
"""
import copy
import json
import os
import random
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation

NDJSON = "application/x-ndjson"
schemathesis.serializer.alias(NDJSON, "text/plain")

_POLICY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "policies", "goodwill.json")
with open(_POLICY_FILE, encoding="utf-8") as _f:
    _POLICY = json.load(_f)
ROLES = _POLICY["roles"]
CATEGORIES = _POLICY["categories"]
SEGMENTS = [s["id"] for s in _POLICY["segments"]]
GESTURES = list(_POLICY["gestures"])
CURRENCY = _POLICY["currency"]
# The demo runs one policy: its market, `default` when it names none.
MARKETS = [_POLICY.get("market", "default")]


def _positive(case, location):
    """Whether schemathesis generated this part of the case to be valid. A phase that does
    not say per part (stateful) says for the whole case."""
    if case.meta is None:
        return False
    component = case.meta.components.get(location)
    mode = component.mode if component is not None else case.meta.generation.mode
    return mode.is_positive


def _negative_in(case, location):
    """Whether the invalid part of a negative case is at `location`."""
    if case.meta is None or not case.meta.generation.mode.is_negative:
        return False
    component = case.meta.components.get(location)
    if component is not None and component.mode.is_negative:
        return True
    return getattr(case.meta.phase.data, "parameter_location", None) == location


def _pick(rng, value, choices):
    """A value of the vocabulary, chosen by the generated one so a case stays reproducible."""
    if not isinstance(value, str):
        return value
    return choices[rng.randrange(len(choices))]


def _set_currency(money, currency):
    if isinstance(money, dict) and "currency" in money:
        money["currency"] = currency


@schemathesis.hook
def filter_case(context, case):
    if (case.media_type or "").split(";")[0].strip() != NDJSON or case.meta is None:
        return True
    body = case.meta.components.get(ParameterLocation.BODY)
    return body is None or not body.mode.is_negative


# The operations whose bodies `map_case` makes follow the rules above.
ALIGNED = {
    ("POST", "/v1/decisions"),
    ("POST", "/v1/webhooks/generic"),
    ("POST", "/v1/decisions/{decision_id}/approval"),
    ("POST", "/v1/decisions/{decision_id}/outcome"),
    ("PUT", "/v1/customers/{customer_id}"),
    ("POST", "/v1/orders"),
    ("POST", "/v1/keys"),
}


@schemathesis.hook
def map_case(context, case):
    rng = random.Random(repr((case.path_parameters, case.query, case.body)))
    # Cases of one phase can share nested objects: a part is copied before it is changed,
    # never changed where another case holds it. Only a changed part is replaced, for
    # schemathesis judges a replaced part again: a case meant to lack `Authorization`
    # whose headers were replaced would be sent with it. So the headers are left alone
    # where they are what the case makes invalid.
    keys = [n for n in (case.headers or {}) if n.lower() == "idempotency-key"]
    if keys and not _negative_in(case, ParameterLocation.HEADER):
        case.headers = dict(case.headers)
        for name in keys:
            case.headers[name] = uuid.uuid4().hex
    op = (case.method.upper(), case.operation.path)
    if (
        _positive(case, ParameterLocation.QUERY)
        and isinstance(case.query, dict)
        and isinstance(case.query.get("market"), str)
    ):
        case.query = dict(case.query)
        case.query["market"] = _pick(rng, case.query["market"], MARKETS)
    if _positive(case, ParameterLocation.QUERY) and isinstance(case.query, dict) and op in (
        ("GET", "/v1/customers/at-risk"),
        ("POST", "/v1/policies/{version}/backtest"),
    ):
        case.query = q = dict(case.query)
        if op == ("GET", "/v1/customers/at-risk") and "segment" in q:
            q["segment"] = _pick(rng, q["segment"], SEGMENTS)
        if op == ("POST", "/v1/policies/{version}/backtest") and q.get("since") and q.get("until"):
            since, until = sorted([q["since"], q["until"]])
            if since == until:
                del q["until"]
            else:
                q["since"], q["until"] = since, until
    if not _positive(case, ParameterLocation.BODY) or not isinstance(case.body, dict) or op not in ALIGNED:
        return case
    case.body = body = copy.deepcopy(case.body)
    if op in (("POST", "/v1/decisions"), ("POST", "/v1/webhooks/generic")):
        if isinstance(body.get("market"), str):
            body["market"] = _pick(rng, body["market"], MARKETS)
        if isinstance(body.get("agent"), dict):
            body["agent"]["role"] = _pick(rng, body["agent"].get("role"), ROLES)
        complaint = body.get("complaint")
        if isinstance(complaint, dict):
            complaint["category"] = _pick(rng, complaint.get("category"), CATEGORIES)
            _set_currency(complaint.get("amount_at_stake"), CURRENCY)
    elif op == ("POST", "/v1/decisions/{decision_id}/approval"):
        if isinstance(body.get("approver"), dict):
            body["approver"]["role"] = _pick(rng, body["approver"].get("role"), ROLES)
        _set_currency(body.get("amount"), CURRENCY)
    elif op == ("POST", "/v1/decisions/{decision_id}/outcome"):
        granted = body.get("granted")
        if isinstance(granted, dict):
            granted["gesture"] = _pick(rng, granted.get("gesture"), GESTURES + ["none"])
            if body.get("status") in ("escalated", "declined"):
                granted["gesture"] = "none"
            _set_currency(granted.get("amount"), CURRENCY)
    elif op == ("PUT", "/v1/customers/{customer_id}"):
        for field in ("lifetime_revenue", "predicted_value", "revenue_12m", "goodwill_12m"):
            _set_currency(body.get(field), body.get("currency"))
        first, last = body.get("first_order_at"), body.get("last_order_at")
        if isinstance(first, str) and isinstance(last, str) and last < first:
            body["first_order_at"], body["last_order_at"] = last, first
    elif op == ("POST", "/v1/orders"):
        # A customer's orders are in one currency; the demo's are in the policy's.
        _set_currency(body.get("amount"), CURRENCY)
    elif op == ("POST", "/v1/keys") and body.get("max_role") is not None:
        body["max_role"] = _pick(rng, body["max_role"], ROLES)
    return case
