"""A fake of the parts of Stripe's REST API that Spark calls, and signed webhook events.

A threaded HTTP server on 127.0.0.1 (an ephemeral port) that speaks Stripe's wire format:
form-encoded requests (``a[b][0][c]=v``), JSON objects with ``id`` and ``object``, Stripe's
error bodies (``{"error": {"type", "code", "message", ...}}``) and the ``Idempotency-Key``
header (the same key answers the same response again; another request under a used key
is an ``idempotency_error``). The official ``stripe`` package talks to it for real.

Scripting::

    fake.decline_payment_methods.add("pm_declined")  # off-session charges are declined
    fake.fail_transfers = "balance_insufficient"     # transfers are refused
    fake.intent_status = "processing"                # off-session charges settle later
    payload, header = fake.signed_event("checkout.session.completed", session)
    fake.transfers / fake.sessions / fake.requests   # what the fake received
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Json = dict[str, Any]
WEBHOOK_SECRET = "whsec_spark_test_secret"


def unflatten(pairs: list[tuple[str, str]]) -> Json:
    """``a[b][0][c]=v`` pairs into nested dicts and lists, as Stripe reads them."""
    root: Json = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _lists(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


class StripeError(Exception):
    def __init__(self, status: int, error: Json) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error


class FakeStripe:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.reset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                pairs = parse_qsl(body or parts.query, keep_blank_values=True)
                status, payload = fake.handle(
                    self.command, parts.path, pairs, self.headers.get("Idempotency-Key")
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _dispatch

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Json]]] = [
            ("POST", re.compile(r"^/v1/checkout/sessions$"), self._session_create),
            ("GET", re.compile(r"^/v1/checkout/sessions/(?P<id>[\w]+)$"), self._session_get),
            ("POST", re.compile(r"^/v1/customers$"), self._customer_create),
            ("GET", re.compile(r"^/v1/setup_intents/(?P<id>[\w]+)$"), self._setup_intent_get),
            ("GET", re.compile(r"^/v1/payment_methods/(?P<id>[\w]+)$"), self._method_get),
            ("POST", re.compile(r"^/v1/payment_intents$"), self._intent_create),
            ("POST", re.compile(r"^/v1/accounts$"), self._account_create),
            ("POST", re.compile(r"^/v1/account_links$"), self._link_create),
            ("POST", re.compile(r"^/v1/transfers$"), self._transfer_create),
            ("GET", re.compile(r"^/v1/transfers$"), self._transfer_list),
        ]

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests: list[tuple[str, str, Json, str | None]] = []
            self.sessions: dict[str, Json] = {}
            self.customers: dict[str, Json] = {}
            self.setup_intents: dict[str, Json] = {}
            self.payment_intents: dict[str, Json] = {}
            self.accounts: dict[str, Json] = {}
            self.transfers: dict[str, Json] = {}
            self.idempotent: dict[str, tuple[str, Json, int, Json]] = {}
            self.decline_payment_methods: set[str] = set()
            self.intent_status = "succeeded"  # e.g. "processing": settled later by webhook
            self.fail_transfers: str | None = None

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}{secrets.token_hex(4)}"

    # --- dispatch -------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, pairs: list[tuple[str, str]], key: str | None
    ) -> tuple[int, Json]:
        params = unflatten(pairs)
        with self._lock:
            self.requests.append((method, path, params, key))
            if method == "POST" and key:
                seen = self.idempotent.get(key)
                if seen is not None:
                    seen_path, seen_params, status, body = seen
                    if (seen_path, seen_params) != (path, params):
                        return 400, self._error(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                        )
                    return status, body
            for route_method, pattern, handler in self.routes:
                match = pattern.match(path)
                if route_method == method and match:
                    try:
                        status, body = 200, handler(params, **match.groupdict())
                    except StripeError as error:
                        status, body = error.status, {"error": error.error}
                    break
            else:
                status, body = (
                    404,
                    self._error(
                        "invalid_request_error", f"Unrecognized request URL ({method}: {path})."
                    ),
                )
            if method == "POST" and key:
                self.idempotent[key] = (path, params, status, body)
            return status, body

    @staticmethod
    def _error(kind: str, message: str, **extra: Any) -> Json:
        return {"error": {"type": kind, "message": message, **extra}}

    # --- resources ------------------------------------------------------------------------

    def _session_create(self, params: Json) -> Json:
        session_id = self.new_id("cs")
        mode = params.get("mode", "payment")
        amount = None
        if mode == "payment":
            items = params.get("line_items", [])
            amount = sum(
                int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
                for item in items
            )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "url": f"{self.base_url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": "usd",
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "payment_intent": None,
            "setup_intent": None,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
        }
        self.sessions[session_id] = session
        return session

    def _session_get(self, params: Json, id: str) -> Json:
        if id not in self.sessions:
            raise StripeError(404, {"type": "invalid_request_error", "message": "No such session"})
        return self.sessions[id]

    def complete_session(self, session_id: str, *, amount_total: int | None = None) -> Json:
        """The customer paid (or saved a card): the session as the webhook would carry it."""
        with self._lock:
            session = dict(self.sessions[session_id])
            session.update(status="complete", payment_status="paid")
            if session["mode"] == "payment":
                if amount_total is not None:
                    session["amount_total"] = amount_total
                intent = self.new_id("pi")
                self.payment_intents[intent] = {
                    "id": intent,
                    "object": "payment_intent",
                    "amount": session["amount_total"],
                    "status": "succeeded",
                    "metadata": session["metadata"],
                }
                session["payment_intent"] = intent
            else:
                method = self.new_id("pm")
                intent = self.new_id("seti")
                self.setup_intents[intent] = {
                    "id": intent,
                    "object": "setup_intent",
                    "status": "succeeded",
                    "payment_method": method,
                    "customer": session["customer"],
                }
                session["setup_intent"] = intent
                session["payment_status"] = "no_payment_required"
            self.sessions[session_id] = session
            return session

    def _customer_create(self, params: Json) -> Json:
        customer = {"id": self.new_id("cus"), "object": "customer", **params}
        self.customers[customer["id"]] = customer
        return customer

    def _setup_intent_get(self, params: Json, id: str) -> Json:
        if id not in self.setup_intents:
            raise StripeError(404, {"type": "invalid_request_error", "message": "No such intent"})
        return self.setup_intents[id]

    def _method_get(self, params: Json, id: str) -> Json:
        return {
            "id": id,
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        }

    def _intent_create(self, params: Json) -> Json:
        intent = {
            "id": self.new_id("pi"),
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params.get("currency", "usd"),
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "metadata": params.get("metadata", {}),
            "status": self.intent_status,
        }
        if params.get("payment_method") in self.decline_payment_methods:
            intent["status"] = "requires_payment_method"
            self.payment_intents[intent["id"]] = intent
            raise StripeError(
                402,
                {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                    "payment_intent": intent,
                },
            )
        self.payment_intents[intent["id"]] = intent
        return intent

    def _account_create(self, params: Json) -> Json:
        account = {
            "id": self.new_id("acct"),
            "object": "account",
            "type": params.get("type", "express"),
            "email": params.get("email"),
            "details_submitted": False,
            "payouts_enabled": False,
            "charges_enabled": False,
            "metadata": params.get("metadata", {}),
        }
        self.accounts[account["id"]] = account
        return account

    def _link_create(self, params: Json) -> Json:
        return {
            "object": "account_link",
            "url": f"{self.base_url}/onboard/{params['account']}",
            "expires_at": int(time.time()) + 300,
        }

    def _transfer_create(self, params: Json) -> Json:
        if self.fail_transfers:
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": self.fail_transfers,
                    "message": "You have insufficient funds in your Stripe account.",
                },
            )
        transfer = {
            "id": self.new_id("tr"),
            "object": "transfer",
            "amount": int(params["amount"]),
            "amount_reversed": 0,
            "currency": params.get("currency", "usd"),
            "destination": params["destination"],
            "metadata": params.get("metadata", {}),
            "reversed": False,
            "created": int(time.time()),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
            },
        }
        transfer["reversals"]["url"] = f"/v1/transfers/{transfer['id']}/reversals"
        self.transfers[transfer["id"]] = transfer
        return transfer

    def _transfer_list(self, params: Json) -> Json:
        """``GET /v1/transfers``: by destination and ``created[gte]``, newest first."""
        created = params.get("created") or {}
        since = int(created.get("gte", 0)) if isinstance(created, dict) else 0
        found = [
            copy.deepcopy(transfer)
            for transfer in self.transfers.values()
            if transfer["destination"] == params.get("destination", transfer["destination"])
            and transfer["created"] >= since
        ]
        found.sort(key=lambda transfer: transfer["created"], reverse=True)
        return {"object": "list", "data": found, "has_more": False, "url": "/v1/transfers"}

    def reverse_transfer(self, transfer_id: str, cents: int) -> Json:
        """Reverse part of a transfer (as the dashboard does); the transfer as Stripe's
        ``transfer.reversed`` event then carries it."""
        with self._lock:
            transfer = self.transfers[transfer_id]
            reversal = {
                "id": self.new_id("trr"),
                "object": "transfer_reversal",
                "amount": cents,
                "currency": "usd",
                "transfer": transfer_id,
                "created": int(time.time()),
            }
            transfer["reversals"]["data"].insert(0, reversal)
            transfer["reversals"]["total_count"] += 1
            transfer["amount_reversed"] += cents
            transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
            return copy.deepcopy(transfer)

    # --- webhooks -------------------------------------------------------------------------

    def event(self, type: str, obj: Json, *, event_id: str | None = None) -> Json:
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "api_version": "2025-01-01",
            "created": int(time.time()),
            "type": type,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
        }

    @staticmethod
    def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
        """The ``Stripe-Signature`` header: ``t=<ts>,v1=HMAC-SHA256(secret, f"{t}.{payload}")``."""
        stamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(
            secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256
        ).hexdigest()
        return f"t={stamp},v1={digest}"

    def signed_event(self, type: str, obj: Json, **kwargs: Any) -> tuple[str, str]:
        payload = json.dumps(self.event(type, obj, **kwargs))
        return payload, self.sign(payload)
