"""Job durations and sampling speed, measured from the job events the hub publishes.

Each event carries the time it was published, so durations are wall-clock spans between a
job's start and its end, and sampler steps are counted from the per-node progress the
diffusion nodes report (one step per increment of a node's ``node_value``).
"""

from __future__ import annotations

from collections import deque

from prometheus_client import CollectorRegistry, Counter, Histogram

from components.workflow.protocol import (
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobRejected,
    JobStarted,
)
from drivers.event_hub import Numbered

_OUTCOMES = {
    JobFinished: "finished",
    JobFailed: "failed",
    JobCancelled: "cancelled",
    JobRejected: "rejected",
}
RATE_WINDOW_S = 10.0


class JobMeter:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.durations = Histogram(
            "rxgen_job_duration_seconds",
            "Wall-clock time from a job's start to its end",
            ["outcome"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=registry,
        )
        self.steps = Counter(
            "rxgen_sampler_steps", "Sampling steps done (rate() gives steps/s)", registry=registry
        )
        self._started: dict[str, float] = {}
        self._progress: dict[tuple[str, str], int] = {}
        self._recent: deque[tuple[float, int]] = deque()

    def observe(self, item: Numbered) -> None:
        event = item.event
        if isinstance(event, JobStarted):
            self._started[event.job_id] = item.time
        elif isinstance(event, JobProgress) and event.node_id is not None and event.node_max:
            key = (event.job_id, event.node_id)
            done = event.node_value - self._progress.get(key, 0)
            self._progress[key] = event.node_value
            if done > 0:
                self.steps.inc(done)
                self._recent.append((item.time, done))
        else:
            outcome = _OUTCOMES.get(type(event))
            if outcome is None or not isinstance(event, JobEvent):
                return
            started = self._started.pop(event.job_id, None)
            if started is not None:
                self.durations.labels(outcome).observe(max(0.0, item.time - started))
            for key in [k for k in self._progress if k[0] == event.job_id]:
                del self._progress[key]

    def steps_per_second(self, now: float) -> float:
        """Steps in the last ``RATE_WINDOW_S`` seconds, per second."""
        while self._recent and self._recent[0][0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / RATE_WINDOW_S
