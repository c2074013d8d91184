"""Observability: Prometheus metrics, structured logs and OpenTelemetry traces.

Machinery (layer 1): it imports no app. Apps call its small hooks (``metrics``) and it
reads their tables only by string model reference, at scrape time (docs/operations.md).
"""
