"""A what-if's report as JSON: what the route answers and the debugger shows."""

from __future__ import annotations

from typing import Any

from rxcore.log_view import change_json, plain_json
from rxcore.what_if import WhatIfReport


def report_json(report: WhatIfReport) -> dict[str, Any]:
    return {
        "seq": report.seq,
        "action": report.action,
        "replayed_from": report.replayed_from,
        "events": report.events,
        "compared_through": report.compared_through,
        "first_difference": report.first_difference,
        "differences": [
            {
                "seq": d.seq,
                "sinks": [
                    {
                        "op": s.op,
                        "driver": s.driver,
                        "index": s.index,
                        "recorded": plain_json(s.recorded),
                        "replayed": plain_json(s.replayed),
                    }
                    for s in d.sinks
                ],
                "state": [change_json(c) for c in d.state],
                "state_total": d.state_total,
                "state_changed": d.state_changed,
            }
            for d in report.differences
        ],
        "final_state": [change_json(c) for c in report.final_state],
        "final_state_total": report.final_state_total,
        "complete": report.complete,
        "stopped": report.stopped,
        "fault": report.fault,
        "elapsed_s": report.elapsed_s,
    }
