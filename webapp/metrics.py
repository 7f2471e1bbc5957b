"""``/metrics`` for Prometheus: queue length, jobs by outcome and duration, WebSocket
connections, sampler steps, model memory. Collected from the services at scrape time, in a
registry of this app's own so two servers in one process (tests) do not clash."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
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


def render(services: Any) -> Response:
    registry = getattr(services, "_metrics_registry", None)
    if registry is None:
        registry = CollectorRegistry()
        registry.register(_Collector(services))
        services._metrics_registry = registry
    return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")
