"""Benchmark: settled messages per second through BudgetGate's reservation and Settle.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/spark_bench_billing \\
        .venv/bin/python -m bench.billing            # ~1 minute; --quick for a smoke run

Each message does what the pipeline does around the model call, for real, on PostgreSQL:
the reservation (lock the payer's account, check it, place a hold) and the settlement
(one database transaction: the answer's completion, the usage record, the balanced ledger
transaction, the hold released). Threads stand in for the web process's worker threads.

Database connections come from psycopg's pool (``DATABASE_POOL_MAX``, 20 by default), as
in production under Daphne.

Scenarios (each reported as messages/s and as a ratio to the first, measured in one run):
- 1 payer, one message at a time (the baseline);
- 50 payers, 50 messages in flight (independent wallets: no shared row);
- 1 shared enterprise wallet, 50 members, 50 messages in flight (the hot row).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spark.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spark_bench_billing")
# As production runs under Daphne: psycopg's pool, so 50 in-flight messages share
# DATABASE_POOL_MAX connections instead of opening one each.
os.environ.setdefault("DATABASE_POOL", "true")
os.environ.setdefault("DATABASE_POOL_MAX", "20")
for name, value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
}.items():
    os.environ.setdefault(name, value)


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


_ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import Membership, Tenant, User  # noqa: E402
from billing import ledger, services  # noqa: E402
from billing.models import MICROS_PER_USD, Account, Transaction  # noqa: E402
from billing.stages import settle_turn  # noqa: E402
from chat import services as chat_services  # noqa: E402
from chat.models import Message  # noqa: E402
from chat.pipeline import Turn  # noqa: E402
from spark.llm.models import LLMModel  # noqa: E402
from spark.llm.types import Usage  # noqa: E402
from spark.tenancy.context import tenant_scope, unscoped  # noqa: E402

RUN = str(int(time.time()))


@dataclass
class Result:
    name: str
    messages: int
    seconds: float
    lock_waits: int = 0  # samples of a session waiting for a row lock of billing_account
    system_waits: int = 0  # ... in a statement that locks a platform (system:*) account

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def model() -> LLMModel:
    found, _ = LLMModel.objects.get_or_create(
        slug="bench-priced",
        defaults={
            "provider": "openai",
            "model_id": "bench-priced",
            "display_name": "Bench",
            "input_price": 2_500_000,
            "output_price": 10_000_000,
            "max_output_tokens": 1_000,
        },
    )
    return found


def make_user(tenant: Tenant, label: str, role: str = Membership.Role.MEMBER) -> User:
    return account_services.user_create(
        email=f"bench-{RUN}-{label}@example.com", tenant=tenant, role=role, email_verified=True
    )


def fund_user(user: User) -> None:
    services.wallet_grant(user=user, amount=1_000 * MICROS_PER_USD, reason="bench")


def fund_tenant(tenant: Tenant) -> None:
    ledger.transaction_post(
        kind=Transaction.Kind.TOPUP,
        idempotency_key=f"bench:{tenant.pk}",
        reference="bench",
        legs=[
            (ledger.system_account(Account.Kind.STRIPE_CLEARING), -100_000 * MICROS_PER_USD),
            (ledger.tenant_wallet(tenant), 100_000 * MICROS_PER_USD),
        ],
    )


class Payer:
    """One user with a conversation; each call settles one more message."""

    def __init__(self, user: User, tenant: Tenant, llm: LLMModel) -> None:
        self.user, self.tenant, self.model = user, tenant, llm
        with tenant_scope(tenant):
            self.conversation = chat_services.conversation_create(
                user=user, tenant=tenant, model_slug=llm.slug
            )

    def one_message(self) -> None:
        with tenant_scope(self.tenant):
            placeholder = Message.objects.create(
                tenant=self.tenant,
                conversation=self.conversation,
                role=Message.Role.ASSISTANT,
                status=Message.Status.STREAMING,
            )
            turn = Turn(
                tenant=self.tenant,
                user=self.user,
                conversation=self.conversation,
                channel="rest",
                text="bench",
                model=self.model,
                assistant_message=placeholder,
            )
            reservation = services.turn_reserve(
                tenant=self.tenant,
                user=self.user,
                prompt=None,
                model=self.model,
                input_tokens=300,
                reference=f"message:{placeholder.uuid}",
            )
            turn.state["billing"] = {"reservation": reservation, "settled": False}
            turn.usage = Usage(input_tokens=300, output_tokens=200)
            turn.text_out = "answer"
            turn.status = Message.Status.COMPLETE
            settle_turn(turn)


IDS = re.compile(r"\bid\b\W*(?:IN\s*\(([\d,\s]+)\)|=\s*(\d+))", re.IGNORECASE)


class LockWatch:
    """Samples pg_stat_activity while a scenario runs: every session waiting for a lock in
    a statement that locks or updates ledger accounts, and whether that statement names a
    platform account (the global hot row Spark must not have)."""

    def __init__(self) -> None:
        import psycopg

        self.connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        rows = self.connection.execute(
            "SELECT id FROM billing_account WHERE key LIKE 'system:%%'"
        ).fetchall()
        self.system_ids = {row[0] for row in rows}
        self.lock_waits = self.system_waits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self) -> None:
        while not self.stop.is_set():
            waiting = self.connection.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE '%%billing_account%%'"
            ).fetchall()
            for (query,) in waiting:
                locking = "FOR UPDATE" in query.upper() or query.upper().startswith("UPDATE")
                if not locking:
                    continue
                self.lock_waits += 1
                ids = {
                    int(n)
                    for match in IDS.finditer(query)
                    for n in (match.group(1) or match.group(2) or "").replace(" ", "").split(",")
                    if n
                }
                if ids & self.system_ids:
                    self.system_waits += 1
            time.sleep(0.002)  # a sampling interval, not a wait for work

    def __enter__(self) -> LockWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.connection.close()


def run(name: str, payers: list[Payer], messages: int, workers: int) -> Result:
    jobs = [payers[n % len(payers)] for n in range(messages)]
    per_payer_locks = {id(p): threading.Lock() for p in payers}

    def job(payer: Payer) -> None:
        with per_payer_locks[id(payer)]:  # one message at a time per conversation, like chat
            try:
                payer.one_message()
            finally:
                connection.close()  # back to the pool, as after each request

    for payer in payers[: min(len(payers), 5)]:
        payer.one_message()  # warm up connections and caches
    with LockWatch() as watch:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(job, jobs))
        elapsed = time.perf_counter() - start
    connections.close_all()
    return Result(name, messages, elapsed, watch.lock_waits, watch.system_waits)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 1 if args.quick else 5
    assert connection.vendor == "postgresql", "the benchmark measures PostgreSQL"
    call_command("migrate", verbosity=0)
    with unscoped():
        llm = model()
        public = Tenant.objects.get(kind=Tenant.Kind.PUBLIC)
        solo = make_user(public, "solo")
        fund_user(solo)
        many = [make_user(public, f"p{n}") for n in range(50)]
        for user in many:
            fund_user(user)
        team = account_services.tenant_create(
            name=f"Bench {RUN}", slug=f"bench-{RUN}", kind=Tenant.Kind.ENTERPRISE
        )
        fund_tenant(team)
        members = [make_user(team, f"m{n}") for n in range(50)]

    results = [
        run("1 payer, sequential", [Payer(solo, public, llm)], 200 * scale, 1),
        run("50 payers, 50 in flight", [Payer(u, public, llm) for u in many], 400 * scale, 50),
        run(
            "1 shared wallet (enterprise), 50 in flight",
            [Payer(u, team, llm) for u in members],
            400 * scale,
            50,
        ),
    ]
    from billing.invariants import ledger_violations

    problems = ledger_violations()
    baseline = results[0].rate
    print(
        f"{'scenario':<44} {'messages':>8} {'seconds':>8} {'msg/s':>8} {'× baseline':>10} "
        f"{'lock waits':>10} {'on system':>9}"
    )
    for result in results:
        print(
            f"{result.name:<44} {result.messages:>8} {result.seconds:>8.2f} "
            f"{result.rate:>8.1f} {result.rate / baseline:>10.2f} "
            f"{result.lock_waits:>10} {result.system_waits:>9}"
        )
    print("ledger_check:", "clean" if not problems else problems[:5])


if __name__ == "__main__":
    main()
