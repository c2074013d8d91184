"""Run an LLM fake on its own, e.g. for a benchmark or a manual try with `make run`:

    python -m tests.fakes.serve openai --words 100      # prints "READY http://127.0.0.1:PORT"
    python -m tests.fakes.serve anthropic --interval 0.02

Every model call gets the default reply (``--words`` words, ``--interval`` seconds apart).
It serves until its standard input closes or it is stopped.
"""

from __future__ import annotations

import argparse
import sys

from tests.fakes.llm import FakeAnthropic, FakeOpenAI, Reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["openai", "anthropic"])
    parser.add_argument("--words", type=int, default=100, help="Words (chunks) per answer.")
    parser.add_argument("--interval", type=float, default=0.0, help="Seconds between chunks.")
    parser.add_argument(
        "--first-token-delay", type=float, default=0.0, help="Seconds before the first chunk."
    )
    options = parser.parse_args()
    fake = (FakeOpenAI if options.kind == "openai" else FakeAnthropic)().start()
    fake.default = Reply(
        " ".join(f"word{i}" for i in range(options.words)),
        token_interval=options.interval,
        first_token_delay=options.first_token_delay,
    )
    fake.record = False
    sys.stdout.write(f"READY {fake.base_url}\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the parent closes our input
    fake.stop()


if __name__ == "__main__":
    main()
