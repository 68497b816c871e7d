"""Prometheus metrics: requests by route, latencies, and job outcomes."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("greenline_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "greenline_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOBS = Counter("greenline_jobs_total", "Background jobs run", ["job", "outcome"])
JOB_SECONDS = Histogram("greenline_job_seconds", "Background job duration", ["job"])
