"""What a session log says about one job: its prompt, drawn seeds, model identities, outputs.

Read by `rxgen reproduce`. Records are picked by their bytes first (the job id, the models ui
key) and decoded only then, so finding a job in a long log costs a read, not a decode, of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from rxcore.log import Kind, LogReader
from rxcore.log_sessions import find_logs

MODELS_UI_KEY = "rxgen_models"  # drivers.diffusion.nodes.MODELS_UI_KEY, without importing torch
_OUTCOMES = ("JobFinished", "JobFailed", "JobCancelled", "JobRejected")


class JobNotFound(LookupError):
    pass


@dataclass
class JobRecord:
    job_id: str
    log: Path
    prompt: dict[str, Any]
    outputs: tuple[str, ...]
    seeds: dict[str, int] = field(default_factory=dict)  # Draw request id -> value
    models: dict[str, str] = field(default_factory=dict)  # model name -> model_id at load
    outcome: str | None = None  # JobFinished, JobFailed, ...
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> its ui
    submitted_seq: int = 0
    outcome_seq: int | None = None


def _type(value: Any) -> str:
    name = value.get("$t", "") if isinstance(value, dict) else ""
    return str(name).rpartition(":")[2]


def read_job(log: Path, job_id: str) -> JobRecord | None:
    """The job's record in ``log`` (the last attempt, if it was submitted more than once)."""
    needle = job_id.encode()
    models_needle = msgpack.packb(MODELS_UI_KEY)
    models: dict[str, str] = {}
    found: JobRecord | None = None
    with LogReader(log) as reader:
        for record in reader.records():
            payload = record.payload
            if record.kind not in (Kind.EVENT, Kind.SINK):
                continue
            mentions_job = needle in payload
            if not mentions_job and models_needle not in payload:
                continue
            _driver, value = msgpack.unpackb(payload, strict_map_key=False)
            kind = _type(value)
            if kind == "NodeDone" and isinstance(value.get("ui"), dict):
                for model in value["ui"].get(MODELS_UI_KEY) or ():
                    models[str(model["name"])] = str(model["model_id"])
            if not mentions_job:
                continue
            if record.kind == Kind.EVENT and kind == "NewJob" and value["job"]["job_id"] == job_id:
                found = JobRecord(
                    job_id,
                    log,
                    dict(value["prompt"]),
                    tuple(value.get("outputs") or ()),
                    submitted_seq=record.seq,
                )
            elif found is None:
                continue
            elif kind == "Drawn" and str(value["request_id"]).startswith(job_id + "/"):
                found.seeds[str(value["request_id"])] = int(value["value"])
            elif record.kind == Kind.SINK and kind in _OUTCOMES and value["job_id"] == job_id:
                found.outcome = kind
                found.outcome_seq = record.seq
                found.results = dict(value.get("outputs") or {})
                found.models = dict(models)
    return found


def find_job(data_dir: Path, job_id: str, log: Path | None = None) -> JobRecord:
    """The job's record in ``log``, or in the newest session under ``data_dir`` that ran it."""
    logs = [log] if log is not None else list(reversed(find_logs(data_dir)))
    if not logs:
        raise JobNotFound(
            f"no recorded sessions under {data_dir}/logs: was the server run --no-log?"
        )
    unfinished: JobRecord | None = None
    for path in logs:
        record = read_job(path, job_id)
        if record is not None and record.outcome is not None:
            return record
        unfinished = unfinished or record
    if unfinished is not None:
        raise JobNotFound(
            f"job {job_id} was submitted in {unfinished.log} but no recorded session shows it "
            "ending; it cannot be compared"
        )
    where = log if log is not None else f"{len(logs)} session(s) under {data_dir}/logs"
    raise JobNotFound(f"job {job_id} is not in {where}; check the id (rxgen log show --job)")
