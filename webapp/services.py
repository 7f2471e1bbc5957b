"""Everything the server runs, started and stopped together: the database, the artifact
store, the model manager, the node runner, the event hub and the reactive runtime that joins
them to the application's main (the job queue in front of the executor).

Routes reach the running application only through here: they put jobs into the intake (a
driver source), read job events from the hub, and read or write rows through the store.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from reactivex.subject import Subject

from components import queue
from components.app import server_main
from components.nodes import Catalog, default_catalog
from components.server_core import NewJob
from components.workflow.limits import DEFAULT_USER_LIMITS
from components.workflow.protocol import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobRejected,
    NodeExecuted,
)
from drivers.entropy import entropy_driver
from drivers.event_hub import EventHub, Numbered
from drivers.job_store import JobStore
from drivers.store import jobs as job_rows
from drivers.store import users as user_rows
from drivers.store.artifacts import ArtifactStore
from drivers.store.database import Database, open_database
from drivers.store.job_outputs import file_key, named_files
from drivers.store.read_cache import ReadCache
from rxcore import Runtime, Source, run
from rxcore.log_retention import open_session
from rxcore.segments import Retention
from webapp.auth import Auth
from webapp.job_meter import JobMeter
from webapp.log_access import OpenLogs
from webapp.metrics import collector as metrics_collector
from webapp.security import allowed_origins, hash_password, initial_admin_password

log = logging.getLogger("rxgen.server")

_OVER = (JobFinished, JobFailed, JobCancelled, JobRejected)
Lookup = Callable[[str], dict[str, Any] | None]
FILE_OWNERS_IN_MEMORY = 50_000
_VIDEO_ONLY = frozenset({".mp4", ".webm", ".mov", ".mkv", ".avi"})  # a GIF is in both lists


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8188
    data_dir: Path = Path("data")
    database_url: str | None = None
    models_dir: Path | None = None
    no_auth: bool = False
    allowed_hosts: tuple[str, ...] = ()
    recovery: str = "requeue"  # what a restart does with jobs that were running: or "fail"
    log: bool = True
    log_max_mb: int = 1024  # all session logs together (older ones pruned as the live one grows)
    log_max_days: float = 14.0
    preview_every: int = 1
    batch_window_s: float = 0.005
    device: str | None = None
    cache_mb: int = 4096
    # Bounds on one job for non-admin users (width, height, steps, batch_size, frames).
    user_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_USER_LIMITS))

    @property
    def output_dir(self) -> Path:
        return self.data_dir / "output"

    @property
    def temp_dir(self) -> Path:
        return self.data_dir / "temp"

    @property
    def input_dir(self) -> Path:
        return self.data_dir / "input"


@dataclass
class Services:
    config: ServerConfig
    database: Database
    catalog: Catalog
    hub: EventHub
    job_store: JobStore
    artifacts: ArtifactStore
    reads: ReadCache[bytes]
    logs: OpenLogs
    metrics: CollectorRegistry
    meter: JobMeter
    intake: Subject[Any]
    runtime: Runtime
    secret: bytes
    admin_id: int
    models: Any = None  # the diffusion model manager, for /metrics
    allowed_origins: frozenset[str] = frozenset()
    auth: Any = None
    job_owners: dict[str, str] = field(default_factory=dict)  # job id -> user id
    # Queued and running jobs' prompts and extra PNG chunks, for the output nodes to embed.
    job_prompts: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_pnginfo: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (kind, path) -> user ids that may read it by name; the database has them all (file_owners).
    file_owners: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def submit(self, job: NewJob, pnginfo: dict[str, Any] | None = None) -> None:
        self.job_owners[job.job.job_id] = job.job.user_id
        self.job_prompts[job.job.job_id] = job.prompt
        if pnginfo:
            self.job_pnginfo[job.job.job_id] = pnginfo
        self.intake.on_next(job)

    def dynamic_choices(self) -> dict[str, list[str]]:
        """The file lists combo inputs offer: models, input images, input videos."""
        from drivers.diffusion.models import ModelStore

        store = ModelStore(models_dir(self.config))
        files = sorted(
            p.relative_to(self.config.input_dir)
            for p in self.config.input_dir.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        videos = [str(f) for f in files if f.suffix.lower() in {*_VIDEO_ONLY, ".gif"}]
        images = [str(f) for f in files if f.suffix.lower() not in _VIDEO_ONLY]
        return {
            "checkpoints": list(store.choices()),
            "input_images": images,
            "input_videos": videos,
        }

    def cancel(self, job_id: str, user_id: int, is_admin: bool) -> None:
        self.intake.on_next(queue.Cancel(job_id=job_id, by_user=str(user_id), is_admin=is_admin))

    def clear(self, user_id: int, is_admin: bool) -> None:
        self.intake.on_next(queue.Clear(by_user=str(user_id), is_admin=is_admin))

    def queue_state(self) -> queue.QueueState:
        state = self.runtime.state
        core = state.get("core") if isinstance(state, dict) else None
        return core.queue if core is not None else queue.QueueState()

    async def stop(self) -> None:
        self.logs.close()
        self.runtime.dispose()
        await asyncio.sleep(0)
        await self.database.dispose()


async def start(config: ServerConfig) -> Services:
    """Open the database (migrating it), recover interrupted jobs, start the runtime."""
    for folder in (config.data_dir, config.output_dir, config.temp_dir, config.input_dir):
        folder.mkdir(parents=True, exist_ok=True)
    models_dir(config).mkdir(parents=True, exist_ok=True)
    database = open_database(config.database_url, config.data_dir)
    await database.migrate()
    admin_id = await _ensure_admin(database)
    secret = _server_secret(config.data_dir)
    catalog = default_catalog()
    hub = EventHub()
    artifacts = ArtifactStore(config.data_dir)
    job_store = JobStore(database, artifacts, config.output_dir)
    prompts: dict[str, dict[str, Any]] = {}
    pnginfo: dict[str, dict[str, Any]] = {}
    runner, manager = _node_runner(config, prompts.get, pnginfo.get)
    metrics = CollectorRegistry()
    intake: Subject[Any] = Subject()
    drivers: dict[str, Any] = {
        "intake": lambda sink: Source(intake),
        "nodes": runner,
        "entropy": entropy_driver(),
        "events": hub,
        "store": job_store,
    }
    session = open_session(config.data_dir / "logs", log_retention(config)) if config.log else None
    log_dir = session.path if session is not None else None
    runtime = run(server_main, drivers, recorder=session)
    hosts = config.allowed_hosts or (config.host,)
    services = Services(
        allowed_origins=allowed_origins(hosts, config.port),
        config=config,
        database=database,
        catalog=catalog,
        hub=hub,
        job_store=job_store,
        artifacts=artifacts,
        reads=ReadCache(database.writes),
        logs=OpenLogs(config.data_dir / "logs", log_dir),
        metrics=metrics,
        meter=JobMeter(metrics),
        models=manager,
        intake=intake,
        runtime=runtime,
        secret=secret,
        admin_id=admin_id,
        job_prompts=prompts,
        job_pnginfo=pnginfo,
    )
    metrics.register(metrics_collector(services))
    hub.listen(services.meter.observe)
    hub.listen(lambda item: _persist_outcome(services, item))
    services.auth = Auth(secret, services)
    await _requeue(services)
    return services


def _persist_outcome(services: Services, item: Numbered) -> None:
    if isinstance(item.event, NodeExecuted):
        # Recorded before any client hears of the files, so a ComfyUI client that fetches
        # /view on "executed" is let in.
        user = services.job_owners.get(item.event.job_id)
        if user is not None:
            known = services.file_owners
            for kind, subfolder, name in named_files(item.event.ui):
                known.setdefault((kind, file_key(subfolder, name)), set()).add(user)
            while len(known) > FILE_OWNERS_IN_MEMORY:  # the oldest are in the database by now
                del known[next(iter(known))]
        services.job_store.record(item.event)
    if isinstance(item.event, _OVER):
        services.job_store.record(item.event)
        services.job_prompts.pop(item.event.job_id, None)
        services.job_pnginfo.pop(item.event.job_id, None)


async def _requeue(services: Services) -> None:
    async with services.database.transaction() as session:
        recovery = await job_rows.recover_after_restart(
            session, "fail" if services.config.recovery == "fail" else "requeue"
        )
        queued = await job_rows.list_queued(session)
    if recovery.requeued or recovery.interrupted:
        log.warning(
            "restart: re-queued %d interrupted job(s), marked %d as interrupted",
            len(recovery.requeued),
            len(recovery.interrupted),
        )
    for row in sorted(queued, key=lambda r: r.number):
        services.submit(new_job(row.id, row.user_id, row.number, row.prompt, row.priority))


def new_job(
    job_id: str,
    user_id: int,
    number: int,
    prompt: dict[str, Any],
    priority: int = 0,
    *,
    front: bool = False,
    outputs: tuple[str, ...] = (),
) -> NewJob:
    entry = queue.Enqueue(
        job_id=job_id,
        user_id=str(user_id),
        number=number,
        priority=priority,
        front=front,
        submitted_at=time.time(),
    )
    return NewJob(job=entry, prompt=prompt, outputs=outputs)


async def _ensure_admin(database: Database) -> int:
    async with database.transaction() as session:
        existing = await user_rows.get_user_by_name(session, "admin")
        if existing is not None:
            return existing.id
        password = initial_admin_password()
        user = await user_rows.create_user(
            session, "admin", role="admin", password_hash=hash_password(password.password)
        )
    if password.generated:
        # Printed once, on the first start only: the hash is all that is kept.
        print(f"rxgen: created user 'admin' with password {password.password}", flush=True)
    return user.id


def _server_secret(data_dir: Path) -> bytes:
    path = data_dir / "secret.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def _node_runner(config: ServerConfig, prompts: Lookup, pnginfo: Lookup) -> tuple[Any, Any]:
    from drivers.diffusion.manager import ModelManager
    from drivers.diffusion.models import ModelStore, default_models_dir
    from drivers.diffusion.nodes import DiffusionNodes
    from drivers.nodes.registry import registry
    from drivers.nodes.runner import NodeRunner
    from drivers.nodes.store import OutputStore

    store = ModelStore(default_models_dir(config.models_dir))
    manager = ModelManager(store, device=config.device)
    nodes = DiffusionNodes(
        manager, preview_every=config.preview_every, batch_window_s=config.batch_window_s
    )
    runner = NodeRunner(
        registry(nodes.implementations()),
        OutputStore(max_bytes=config.cache_mb << 20),
        max_workers=4,
        output_dir=config.output_dir,
        temp_dir=config.temp_dir,
        input_dir=config.input_dir,
        prompts=prompts,
        extra_pnginfo=pnginfo,
    )
    return runner, manager


def log_retention(config: ServerConfig) -> Retention:
    return Retention(max_bytes=config.log_max_mb << 20, max_age_s=config.log_max_days * 86400)


def models_dir(config: ServerConfig) -> Path:
    from drivers.diffusion.models import default_models_dir

    return default_models_dir(config.models_dir)
