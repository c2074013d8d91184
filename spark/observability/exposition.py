"""The text a scrape returns: this process's metrics (or, under
``PROMETHEUS_MULTIPROC_DIR``, every process's, added up) and the shared state."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from spark.observability.collectors import StateCollector


class _ProcessCollector(Collector):
    """This process's own registry, read through a scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape(*, state: bool = True) -> bytes:
    """``state``: include the shared state (database, broker), which one process of a
    deployment's scrape targets is enough to report; every target reports it by default."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    if state:
        registry.register(StateCollector())
    return generate_latest(registry)
