"""Benchmark: what the pre-watchdog adds to each message.

    .venv/bin/python -m bench.watchdog             # about a minute; --quick for a smoke run
    .venv/bin/python -m bench.watchdog --delay 0.2 # the fake evaluator answers after 200 ms

1. **screen**: the local screen alone, per ordinary message and per known attack
   (tests/watchdog/data).
2. **clear**: ``PreWatchdog`` on a turn whose message the screen clears and whose policy does
   not call the LLM guard this turn: the time until it hands the turn on to the model, its
   one database read included; with the settings' default of a new database connection per
   call (``CONN_MAX_AGE=0``) and with persistent connections. Target: < 1 ms p99.
3. **guard**: ``PreWatchdog`` when the LLM guard runs, against a fake evaluator in a child
   process (its CPU is not ours) that answers after a fixed delay: the time until the turn
   reaches the model, minus that delay, and minus a bare ``gateway.complete`` to the same
   fake (the transport and litellm's own cost). Target: the delay + < 5 ms. The verdict is
   stored while the model answers; the whole stage with an instant model is shown too.

It migrates a throw-away SQLite database (or uses ``DATABASE_URL``) with the test settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile, start_ready_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for name, value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
    "DJANGO_SETTINGS_MODULE": "spark.settings.test",
}.items():
    os.environ.setdefault(name, value)
# Conversations in the benchmark are this long; every turn of the "clear" case is off the
# guard's cadence (every 1000th message).
TURNS_PER_CONVERSATION = 20
VERDICT = {
    "verdict": "allow",
    "category": "none",
    "severity": "info",
    "confidence": 0.95,
    "rationale": "An ordinary message.",
    "hint": "",
}


def serve_fake(delay: float) -> None:
    """The child process: an OpenAI fake answering every call with a verdict after ``delay``."""
    from tests.fakes.llm import FakeOpenAI, Reply

    fake = FakeOpenAI().start()
    fake.record = False
    fake.default = Reply(json.dumps(VERDICT), first_token_delay=delay)
    sys.stdout.write(f"READY {fake.base_url}\n")
    sys.stdout.flush()
    sys.stdin.read()
    fake.stop()


def start_fake(delay: float) -> tuple[subprocess.Popen[str], str]:
    return start_ready_process([sys.executable, "-m", "bench.watchdog", "--serve-fake", str(delay)])


def percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "max": max(samples)}


def data(name: str) -> list[str]:
    lines = (ROOT / "tests" / "watchdog" / "data" / name).read_text(encoding="utf-8")
    return [
        line.replace("\\n", "\n")
        for line in lines.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def setup_django() -> None:
    if "DATABASE_URL" not in os.environ:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_screen(rounds: int) -> dict[str, dict[str, float]]:
    from watchdog.screen import get_screen

    screen = get_screen()
    results = {}
    for name in ("ordinary.txt", "injections.txt"):
        texts = data(name)
        for text in texts:  # warm up
            screen.check(text)
        samples = []
        for _ in range(rounds):
            for text in texts:
                started = time.perf_counter()
                screen.check(text)
                samples.append(time.perf_counter() - started)
        results[name] = percentiles(samples)
    return results


class World:
    """A tenant, a user, a prompt with a policy, and a conversation to send turns in."""

    def __init__(self, evaluator: Any, *, guard_every_message: bool) -> None:
        from accounts import services as account_services
        from accounts.models import Tenant
        from marketplace import services as prompt_services
        from spark.llm.models import LLMModel
        from spark.tenancy.context import tenant_scope
        from watchdog import services as watchdog_services

        self.tenant = Tenant.objects.get(kind=Tenant.Kind.PUBLIC)
        suffix = "guard" if guard_every_message else "clear"
        self.user = account_services.user_create(
            tenant=self.tenant, email=f"bench-{suffix}@example.com", password="x" * 12
        )
        with tenant_scope(self.tenant):
            prompt = prompt_services.prompt_create(
                owner=self.user,
                tenant=self.tenant,
                name=f"Bench {suffix}",
                system_prompt="You are a patient tutor for high-school physics.",
                default_model=LLMModel.objects.get(slug="demo"),
                visibility="public",
            )
            values = watchdog_services.policy_initial(prompt=prompt)
            values.update(
                pre_model=evaluator,
                pre_frequency=1 if guard_every_message else 1000,
                post_enabled=False,
                failure_mode="allow",
            )
            watchdog_services.policy_save(prompt=prompt, values=values)
        self.prompt = prompt

    def conversation(self) -> Any:
        from chat import selectors as chat_selectors, services as chat_services
        from spark.tenancy.context import tenant_scope

        with tenant_scope(self.tenant):
            conversation = chat_services.conversation_create(
                user=self.user, tenant=self.tenant, prompt=self.prompt
            )
            return chat_selectors.conversation_get_for_user(user=self.user, uuid=conversation.uuid)

    def turns(self, texts: list[str]) -> list[Any]:
        """Turns as AccessGate leaves them (messages recorded), made before timing, in
        conversations of TURNS_PER_CONVERSATION turns each."""
        from chat.models import Message
        from chat.pipeline import Turn
        from spark.tenancy.context import tenant_scope

        made = []
        with tenant_scope(self.tenant):
            for number, text in enumerate(texts):
                if number % TURNS_PER_CONVERSATION == 0:
                    conversation = self.conversation()
                question = Message.objects.create(
                    tenant=self.tenant, conversation=conversation, role="user", content=text
                )
                answer = Message.objects.create(
                    tenant=self.tenant,
                    conversation=conversation,
                    role="assistant",
                    status="streaming",
                    reply_to=question,
                )
                made.append(
                    Turn(
                        tenant=self.tenant,
                        user=self.user,
                        conversation=conversation,
                        channel="bench",
                        text=text,
                        prompt=conversation.prompt,
                        model=conversation.model,
                        user_message=question,
                        assistant_message=answer,
                    )
                )
        return made


async def time_stage(turns: list[Any], tenant: Any) -> tuple[list[float], list[float]]:
    """For each turn: the time until the stage hands the turn on to the model (what it adds
    to the wait for the first token), and the stage's whole time with a model that answers
    at once (the verdict's write overlaps a real answer)."""
    from spark.tenancy.context import tenant_scope
    from watchdog.stages import PreWatchdog

    stage = PreWatchdog()
    handed_on: list[float] = []

    async def model(_turn: Any) -> None:
        handed_on.append(time.perf_counter())

    to_model, whole = [], []
    with tenant_scope(tenant):
        for turn in turns:
            started = time.perf_counter()
            await stage(turn, model)
            finished = time.perf_counter()
            to_model.append(handed_on[-1] - started)
            whole.append(finished - started)
    return to_model, whole


async def time_bare_calls(evaluator: Any, count: int) -> list[float]:
    from spark.llm.client import get_gateway
    from spark.llm.types import ChatMessage, ChatRequest

    request = ChatRequest(
        provider=evaluator.provider,
        model=evaluator.model_id,
        messages=(
            ChatMessage(role="system", content="Judge the message. " * 100),
            ChatMessage(role="user", content="An ordinary message. " * 20),
        ),
        temperature=0,
        response_format={"type": "json_object"},
        timeout=30,
    )
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await get_gateway().complete(request)
        samples.append(time.perf_counter() - started)
    return samples


def run(quick: bool, delay: float) -> dict[str, Any]:
    setup_django()
    from django.conf import settings

    from spark.llm.models import LLMModel

    report: dict[str, Any] = {"screen": bench_screen(2 if quick else 20)}
    process, base_url = start_fake(delay)
    try:
        settings.SPARK_PROVIDER_BASE_URLS = {
            **settings.SPARK_PROVIDER_BASE_URLS,
            "openai": f"{base_url}/v1",
        }
        settings.SPARK_PROVIDER_KEYS = {**settings.SPARK_PROVIDER_KEYS, "openai": ["sk-bench"]}
        evaluator = LLMModel.objects.create(
            slug="bench-evaluator",
            provider="openai",
            model_id="bench-evaluator-1",
            display_name="Bench evaluator",
        )
        ordinary = data("ordinary.txt")
        clear_count = 300 if quick else 3000
        guard_count = 30 if quick else 300
        clear_world = World(evaluator, guard_every_message=False)
        guard_world = World(evaluator, guard_every_message=True)
        clear_turns = clear_world.turns([ordinary[i % len(ordinary)] for i in range(clear_count)])
        guard_turns = guard_world.turns([ordinary[i % len(ordinary)] for i in range(guard_count)])

        async def measure() -> dict[str, list[float]]:
            warm = 50 if not quick else 10
            half = (clear_count - warm) // 2
            await time_stage(clear_turns[:warm], clear_world.tenant)
            clear, _ = await time_stage(clear_turns[warm : warm + half], clear_world.tenant)
            persistent(True)
            clear_kept, _ = await time_stage(clear_turns[warm + half :], clear_world.tenant)
            persistent(False)
            await time_bare_calls(evaluator, 5)  # warm up litellm and the connection
            bare = await time_bare_calls(evaluator, guard_count)
            await time_stage(guard_turns[:5], guard_world.tenant)
            guard, guard_whole = await time_stage(guard_turns[5:], guard_world.tenant)
            return {
                "clear": clear,
                "clear_kept": clear_kept,
                "bare": bare,
                "guard": guard,
                "guard_whole": guard_whole,
            }

        samples = asyncio.run(measure())
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)
    bare_median = statistics.median(samples["bare"])
    report["clear"] = percentiles(samples["clear"])
    report["clear_kept"] = percentiles(samples["clear_kept"])
    report["guard"] = percentiles(samples["guard"])
    report["guard_whole"] = percentiles(samples["guard_whole"])
    report["bare"] = percentiles(samples["bare"])
    report["guard_minus_delay"] = percentiles([s - delay for s in samples["guard"]])
    report["guard_minus_bare"] = percentiles([s - bare_median for s in samples["guard"]])
    report["delay"] = delay
    report["database"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return report


def persistent(on: bool) -> None:
    """Keep each worker thread's database connection between calls (CONN_MAX_AGE=None),
    or open one per call as the settings' default (CONN_MAX_AGE=0) does."""
    from django.db import connections

    for alias in connections:
        connections[alias].settings_dict["CONN_MAX_AGE"] = None if on else 0


def ms(value: float) -> str:
    return f"{value * 1000:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Fewer samples (smoke run).")
    parser.add_argument("--delay", type=float, default=0.05, help="The evaluator's delay (s).")
    parser.add_argument("--serve-fake", type=float, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_fake is not None:
        serve_fake(options.serve_fake)
        return
    started = time.perf_counter()
    report = run(options.quick, options.delay)
    lines = [f"{'measure':44} {'p50':>10} {'p99':>10} {'max':>10}"]
    rows = [
        ("screen, ordinary message", report["screen"]["ordinary.txt"]),
        ("screen, known attack", report["screen"]["injections.txt"]),
        ("PreWatchdog, screen clears (target p99 < 1 ms)", report["clear"]),
        ("  with persistent database connections", report["clear_kept"]),
        (f"bare gateway.complete, fake delay {report['delay'] * 1000:.0f} ms", report["bare"]),
        ("PreWatchdog with the LLM guard, to the model", report["guard"]),
        ("  minus the delay (target < 5 ms)", report["guard_minus_delay"]),
        ("  minus a bare call's median", report["guard_minus_bare"]),
        ("  whole stage (the verdict stored)", report["guard_whole"]),
    ]
    for label, stats in rows:
        lines.append(f"{label:44} {ms(stats['p50'])} {ms(stats['p99'])} {ms(stats['max'])}")
    lines.append(f"({report['database']}, {time.perf_counter() - started:.0f} s)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
