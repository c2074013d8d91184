"""Benchmark: Spark's lean streaming adapter against litellm's streaming, same fake server.

    .venv/bin/python -m bench.llm_adapters            # about a minute; --quick for a smoke run

The fake (tests/fakes) runs in a child process, so this process's CPU time is the client's
alone: per streamed chunk, per 100-token answer, and the streams per second each adapter
sustains with many streams in flight. Results are ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import start_ready_process

ROOT = Path(__file__).resolve().parents[1]
for name, value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
}.items():
    os.environ.setdefault(name, value)
sys.path.insert(0, str(ROOT))

from spark.llm.providers.base import ChatAdapter  # noqa: E402
from spark.llm.providers.http import close_shared_client  # noqa: E402
from spark.llm.providers.litellm_adapter import LiteLLMAdapter, load_litellm  # noqa: E402
from spark.llm.providers.openai_compat import OpenAICompatAdapter  # noqa: E402
from spark.llm.types import ChatMessage, ChatRequest, Credentials, TextDelta  # noqa: E402

WORDS = 100


@dataclass
class Result:
    name: str
    cpu_per_answer_ms: float
    cpu_per_chunk_us: float
    streams_per_second: float


def start_fake() -> tuple[subprocess.Popen[str], str]:
    return start_ready_process(
        [sys.executable, "-m", "tests.fakes.serve", "openai", "--words", str(WORDS)]
    )


async def one_stream(adapter: ChatAdapter, credentials: Credentials) -> int:
    request = ChatRequest(
        provider="openai",
        model="fake-model",
        messages=(ChatMessage(role="user", content="Tell me a story."),),
    )
    chunks = 0
    async for event in adapter.stream(request, credentials):
        if isinstance(event, TextDelta):
            chunks += 1
    return chunks


async def measure(
    name: str, adapter: ChatAdapter, credentials: Credentials, sequential: int, concurrent: int
) -> Result:
    for _ in range(5):  # warm up connections and caches
        await one_stream(adapter, credentials)
    cpu = time.process_time()
    chunks = 0
    for _ in range(sequential):
        chunks += await one_stream(adapter, credentials)
    cpu = time.process_time() - cpu
    assert chunks == sequential * WORDS, chunks

    in_flight = 50
    semaphore = asyncio.Semaphore(in_flight)

    async def bounded() -> int:
        async with semaphore:
            return await one_stream(adapter, credentials)

    wall = time.perf_counter()
    counts = await asyncio.gather(*(bounded() for _ in range(concurrent)))
    wall = time.perf_counter() - wall
    assert sum(counts) == concurrent * WORDS
    await close_shared_client()
    return Result(
        name=name,
        cpu_per_answer_ms=cpu / sequential * 1000,
        cpu_per_chunk_us=cpu / chunks * 1_000_000,
        streams_per_second=concurrent / wall,
    )


async def run(quick: bool) -> list[Result]:
    process, base_url = start_fake()
    try:
        credentials = Credentials(api_key="sk-bench", base_url=f"{base_url}/v1")
        load_litellm()
        sequential, concurrent = (10, 20) if quick else (100, 400)
        lean = await measure(
            "lean (httpx + SSE parser + orjson)",
            OpenAICompatAdapter("openai"),
            credentials,
            sequential,
            concurrent,
        )
        slow_concurrent = max(concurrent // 2, 20)
        litellm = await measure(
            "litellm.acompletion(stream=True)",
            LiteLLMAdapter(),
            credentials,
            sequential,
            slow_concurrent,
        )
        return [lean, litellm]
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="A few streams only (smoke run).")
    options = parser.parse_args()
    started = time.perf_counter()
    lean, litellm = asyncio.run(run(options.quick))
    print(f"{'adapter':38} {'CPU/answer':>11} {'CPU/chunk':>10} {'streams/s':>10}")
    for result in (lean, litellm):
        print(
            f"{result.name:38} {result.cpu_per_answer_ms:8.2f} ms {result.cpu_per_chunk_us:7.1f} µs"
            f" {result.streams_per_second:10.1f}"
        )
    print(
        f"litellm / lean: {litellm.cpu_per_chunk_us / lean.cpu_per_chunk_us:.1f}x CPU per chunk, "
        f"lean sustains {lean.streams_per_second / litellm.streams_per_second:.1f}x the streams/s "
        f"({WORDS}-token answers, 50 in flight; {time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
