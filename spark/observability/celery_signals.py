"""Celery's signals, connected once when Django loads: task outcomes and durations for
the metrics, and the worker's own ``/metrics`` server."""

from __future__ import annotations

import os
import time
from typing import Any

from celery import signals
from django.conf import settings

from spark.observability.metrics import CELERY_TASK_DURATION, CELERY_TASKS, label

_started: dict[str, float] = {}


def _task_name(sender: Any) -> str:
    return label(getattr(sender, "name", sender))


def _prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


def _postrun(sender: Any = None, task_id: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    if started is not None:
        CELERY_TASK_DURATION.labels(_task_name(sender)).observe(time.monotonic() - started)


def _success(sender: Any = None, **_: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "success").inc()


def _failure(sender: Any = None, **_: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "failure").inc()


def _retry(sender: Any = None, **_: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "retry").inc()


def _worker_ready(**_: Any) -> None:
    port = int(settings.SPARK_WORKER_METRICS_PORT or 0)
    if port:
        from spark.observability.worker import serve

        serve(settings.SPARK_WORKER_METRICS_ADDRESS, port)


def _child_exited(pid: int | None = None, **_: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def connect() -> None:
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="spark-obs-prerun")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="spark-obs-postrun")
    signals.task_success.connect(_success, weak=False, dispatch_uid="spark-obs-success")
    signals.task_failure.connect(_failure, weak=False, dispatch_uid="spark-obs-failure")
    signals.task_retry.connect(_retry, weak=False, dispatch_uid="spark-obs-retry")
    signals.worker_ready.connect(_worker_ready, weak=False, dispatch_uid="spark-obs-ready")
    signals.worker_process_shutdown.connect(
        _child_exited, weak=False, dispatch_uid="spark-obs-child-exit"
    )
