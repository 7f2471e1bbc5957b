"""``/metrics`` for Prometheus: queue length, jobs by outcome and duration, WebSocket
connections, sampler steps, model memory. Collected from the services at scrape time, in a
registry of this app's own so two servers in one process (tests) do not clash."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.responses import Response

from components.queue_views import snapshot


class _Collector:
    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Any:
        services = self.services
        view = snapshot(services.queue_state())
        running = GaugeMetricFamily("rxgen_jobs_running", "Jobs running now")
        running.add_metric([], len(view.running))
        yield running
        pending = GaugeMetricFamily("rxgen_queue_pending", "Jobs waiting in the queue")
        pending.add_metric([], len(view.pending))
        yield pending
        sockets = GaugeMetricFamily("rxgen_websocket_connections", "Connected WebSocket clients")
        sockets.add_metric([], services.hub.connections)
        yield sockets
        events = GaugeMetricFamily("rxgen_job_events_total", "Job events published so far")
        events.add_metric([], services.hub.seq)
        yield events
        failures = GaugeMetricFamily("rxgen_store_write_failures", "Job state writes that failed")
        failures.add_metric([], services.job_store.failures)
        yield failures
        speed = GaugeMetricFamily(
            "rxgen_sampler_steps_per_second", "Sampling steps per second, last 10 s"
        )
        speed.add_metric([], services.meter.steps_per_second(time.time()))
        yield speed
        models = services.models.stats() if services.models is not None else None
        if models is not None:
            memory = GaugeMetricFamily(
                "rxgen_model_memory_bytes",
                "Model weights held by the model cache",
                labels=["where"],
            )
            memory.add_metric(["resident"], models["resident_bytes"])
            memory.add_metric(["offloaded"], models["offloaded_bytes"])
            yield memory
            budget = GaugeMetricFamily("rxgen_model_memory_budget_bytes", "The cache's budget")
            budget.add_metric([], models["budget_bytes"] or 0)
            yield budget


def collector(services: Any) -> _Collector:
    """Figures read from ``services`` at scrape time, for the app's own registry (one per
    server, so two servers in one process, as in tests, do not clash)."""
    return _Collector(services)


def render(services: Any) -> Response:
    return Response(generate_latest(services.metrics), media_type="text/plain; version=0.0.4")
