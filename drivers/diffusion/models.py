"""The models directory: what models exist, what they are, and adding or removing them.

Layout (compatible with ComfyUI's ``models/`` folder, so one directory can serve both)::

    models/
      tiny-sd/model_index.json ...        a diffusers directory: name "tiny-sd"
      diffusers/sd15/model_index.json     a diffusers directory: name "diffusers/sd15"
      checkpoints/v1-5.safetensors        a single-file checkpoint: name "v1-5.safetensors"
      checkpoints/sd15/dream.safetensors  name "sd15/dream.safetensors" (ComfyUI's ckpt_name)
      checkpoints/old.ckpt                a pickle checkpoint: listed, refused unless allowed

A diffusers directory is any folder holding ``model_index.json`` (found up to four levels deep,
outside ``checkpoints/``); a single-file checkpoint is a file under ``checkpoints/``. Names are
the POSIX relative paths shown above. Names given by users are only ever *looked up* among the
names a scan found, never joined onto the directory, so ``../../etc/passwd`` names nothing.

Facts that are expensive to compute (a checkpoint's sha256) or that the file cannot hold (which
diffusers directory supplies a checkpoint's configuration) live in a sidecar next to the file:
``NAME.safetensors.rxgen.json``. A read-only models directory still works; the hash is then
recomputed when asked for.

This module does not import torch or diffusers: listing models must stay fast.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal

from .checkpoints import (
    cached_sha,
    components_of,
    directory_digest,
    file_sha256,
    labels_of,
    read_marker,
    read_safetensors_header,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from .hub import add_from_hub, parse_hub_source
from .modelscope_hub import add_from_modelscope, parse_modelscope_source
from .store_errors import HubUnavailable, ModelStoreError, RefusedModel, UnknownModel
from .store_files import (
    CHECKPOINTS_DIR,
    PICKLE_HELP,
    PICKLE_SUFFIXES,
    SAFETENSORS_SUFFIXES,
    check_dir_name,
    check_name,
    place,
    size_of,
    walk_files,
    walk_model_dirs,
)
from .tiny import MARKER_FILE, TINY_LABEL, TINY_WARNING

__all__ = [
    "CHECKPOINTS_DIR",
    "ENV_MODELS_DIR",
    "PICKLE_SUFFIXES",
    "SAFETENSORS_SUFFIXES",
    "HubUnavailable",
    "ModelInfo",
    "ModelKind",
    "ModelStore",
    "ModelStoreError",
    "RefusedModel",
    "UnknownModel",
    "default_models_dir",
]

ENV_MODELS_DIR: Final = "RXGEN_MODELS_DIR"
_MAX_DIR_DEPTH: Final = 4
_MAX_FILE_DEPTH: Final = 8
_WEIGHTED_COMPONENTS: Final = ("unet", "vae", "text_encoder", "text_encoder_2", "transformer")

ModelKind = Literal["diffusers", "safetensors", "pickle"]
_Names = list[str]


@dataclass(frozen=True)
class ModelInfo:
    """What the store knows about one model. Paths are absolute; ``files`` are relative to it."""

    name: str
    kind: ModelKind
    path: Path
    size: int
    files: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    pipeline_class: str | None = None
    labels: tuple[str, ...] = ()
    warning: str | None = None
    refused: str | None = None
    """Why the model will not be loaded, or None when it can be."""
    sha256: str | None = None
    """Single files only; None until computed (see :meth:`ModelStore.info`)."""
    config: Path | None = None
    """Single files: the diffusers directory that supplies their configuration, if recorded."""
    linked_to: Path | None = None
    """Where the symlink that holds this model points, when it is one."""

    @property
    def loadable(self) -> bool:
        return self.refused is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for ``rxgen models info --json`` and the web API)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path),
            "size": self.size,
            "files": list(self.files),
            "components": list(self.components),
            "pipeline_class": self.pipeline_class,
            "labels": list(self.labels),
            "warning": self.warning,
            "refused": self.refused,
            "sha256": self.sha256,
            "config": None if self.config is None else str(self.config),
            "linked_to": None if self.linked_to is None else str(self.linked_to),
        }


_Infos = list[ModelInfo]  # `list` is a method name in ModelStore: aliases keep annotations clear


def default_models_dir(
    cli_value: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The models directory: ``--models-dir``, else ``$RXGEN_MODELS_DIR``, else ``./models``."""
    env = os.environ if env is None else env
    if cli_value:
        return Path(cli_value).expanduser().absolute()
    if env.get(ENV_MODELS_DIR):
        return Path(env[ENV_MODELS_DIR]).expanduser().absolute()
    return Path.cwd() / "models"


@dataclass(frozen=True)
class _Found:
    name: str
    kind: ModelKind
    path: Path


class ModelStore:
    """A models directory. Scans on every call: the directory is the only source of truth, and
    people drop files into it while rxgen runs."""

    def __init__(self, models_dir: str | os.PathLike[str], *, allow_pickle: bool = False) -> None:
        self.root = Path(models_dir).expanduser().absolute()
        self.allow_pickle = allow_pickle

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r}, allow_pickle={self.allow_pickle})"

    # --- reading --------------------------------------------------------------------------------

    def list(self) -> _Infos:
        """Every model, sorted by name. Cheap: hashes only when a cached one is still valid."""
        return [self._describe(found, compute_hash=False) for found in self._scan().values()]

    def names(self) -> _Names:
        return sorted(self._scan())

    def choices(self) -> _Names:
        """Names for CheckpointLoaderSimple's ``ckpt_name`` combo: every loadable model."""
        return [info.name for info in self.list() if info.loadable]

    def info(self, name: str, *, compute_hash: bool = True) -> ModelInfo:
        """Everything about one model, refused ones included; computes a file's sha256 once."""
        return self._describe(self._lookup(name), compute_hash=compute_hash)

    def resolve(self, name: str) -> ModelInfo:
        """The model to load under ``name``: raises UnknownModel or RefusedModel with the fix."""
        info = self._describe(self._lookup(name), compute_hash=False)
        if info.refused is not None:
            raise RefusedModel(f"model {name!r} ({info.path}) will not be loaded: {info.refused}")
        return info

    def sha256(self, name: str) -> str:
        found = self._lookup(name)
        if found.kind == "diffusers":
            raise ModelStoreError(f"model {name!r} is a directory; only files have a sha256")
        return file_sha256(found.path)

    def content_id(self, info: ModelInfo) -> str:
        """A short identity of the model's current content, which changes when it changes.

        Files: their sha256 (cached by size and mtime). Directories: a hash of every file's
        relative path, size and mtime plus the text of the small config files, which notices
        replaced weights without reading gigabytes.
        """
        if info.kind != "diffusers":
            return "sha256:" + file_sha256(info.path)[:16]
        return "dir:" + directory_digest(info.path, info.files)[:16]

    # --- changing -------------------------------------------------------------------------------

    def new_model_path(self, name: str, *, checkpoint: bool = False) -> Path:
        """Where a new model called ``name`` goes (a directory, or a file under checkpoints/).

        Validates the name (no traversal, no hidden parts) and refuses names already in use.
        """
        if checkpoint:
            target = self.root / CHECKPOINTS_DIR / check_name(name)
        else:
            target = self.root / check_dir_name(name)
        if target.exists() or target.is_symlink() or name in self._scan():
            raise ModelStoreError(
                f"a model named {name!r} already exists ({target}); remove it first "
                "(`rxgen models remove`) or choose another name"
            )
        return target

    def add(
        self,
        source: str,
        name: str | None = None,
        *,
        link: bool = False,
        config: str | os.PathLike[str] | None = None,
    ) -> ModelInfo:
        """Add a model: a local diffusers directory or checkpoint file (copied, or symlinked with
        ``link=True``), or a hub id ``org/name[@revision]`` (a diffusers pipeline) or
        ``org/name/path/file.safetensors`` (one checkpoint), downloaded with huggingface_hub, or
        ``modelscope:org/name[@revision]`` from the ModelScope hub (optional extra).

        ``config`` records, for a single file, the diffusers directory (path or store name)
        whose configuration, tokenizer and scheduler it should be loaded with.
        """
        local = Path(source).expanduser()
        scope = parse_modelscope_source(source)
        if scope is not None:
            target = add_from_modelscope(scope[0], scope[1], self.root, name)
            info = self._describe(self._found_at(target), compute_hash=False)
        elif local.exists():
            info = self._add_local(local, name, link=link)
        else:
            hub = parse_hub_source(source)
            if hub is None:
                raise ModelStoreError(
                    f"cannot add {source!r}: no such file or directory, and not a Hugging Face "
                    "hub id (org/name or org/name/file.safetensors); check the path"
                )
            target = add_from_hub(hub, self.root, name, allow_pickle=self.allow_pickle)
            info = self._describe(self._found_at(target), compute_hash=False)
        if config is not None:
            info = self.set_config(info.name, config)
        return info

    def set_config(self, name: str, config: str | os.PathLike[str]) -> ModelInfo:
        """Record which diffusers directory supplies a single file's configuration."""
        found = self._lookup(name)
        if found.kind == "diffusers":
            raise ModelStoreError(f"{name!r} is a diffusers directory; it carries its own config")
        directory = self._config_dir(config)
        try:
            stored = directory.relative_to(self.root).as_posix()  # survives moving the store
        except ValueError:
            stored = str(directory)
        write_sidecar(found.path, {**read_sidecar(found.path), "config": stored})
        return self.info(name, compute_hash=False)

    def remove(self, name: str) -> ModelInfo:
        """Delete a model from the store (a symlinked one: only the link). Returns what it was."""
        found = self._lookup(name)
        info = self._describe(found, compute_hash=False)
        if found.path.is_symlink():
            found.path.unlink()
        elif found.kind == "diffusers":
            shutil.rmtree(found.path)
        else:
            found.path.unlink()
        if found.kind != "diffusers":
            sidecar_path(found.path).unlink(missing_ok=True)
        return info

    # --- scanning -------------------------------------------------------------------------------

    def _lookup(self, name: str) -> _Found:
        found = self._scan()
        # ComfyUI on Windows sends "sub\\model.safetensors"; the same model here is "sub/...".
        key = name.replace("\\", "/")
        if key in found:
            return found[key]
        available = ", ".join(sorted(found)) or "none"
        raise UnknownModel(
            f"no model named {name!r} in {self.root} (available: {available}); "
            "`rxgen models list` shows them and `rxgen models add` adds one"
        )

    def _scan(self) -> dict[str, _Found]:
        found: dict[str, _Found] = {}
        if not self.root.is_dir():
            return found
        checkpoints = self.root / CHECKPOINTS_DIR
        for path in walk_files(checkpoints, _MAX_FILE_DEPTH):
            suffix = path.suffix.lower()
            if suffix in SAFETENSORS_SUFFIXES or suffix in PICKLE_SUFFIXES:
                name = path.relative_to(checkpoints).as_posix()
                kind: ModelKind = "safetensors" if suffix in SAFETENSORS_SUFFIXES else "pickle"
                found[name] = _Found(name, kind, path)
        for path in walk_model_dirs(self.root, _MAX_DIR_DEPTH, skip=checkpoints):
            name = path.relative_to(self.root).as_posix()
            # A file name wins over a directory of the same name; both cannot be one combo entry.
            found.setdefault(name, _Found(name, "diffusers", path))
        return dict(sorted(found.items()))

    def _describe(self, found: _Found, *, compute_hash: bool) -> ModelInfo:
        linked = Path(os.readlink(found.path)) if found.path.is_symlink() else None
        if found.kind == "diffusers":
            return self._describe_dir(found, linked)
        return self._describe_file(found, linked, compute_hash=compute_hash)

    def _describe_dir(self, found: _Found, linked: Path | None) -> ModelInfo:
        files = sorted(
            p.relative_to(found.path).as_posix()
            for p in walk_files(found.path, _MAX_FILE_DEPTH, hidden=False)
        )
        size = sum(size_of(found.path / f) for f in files)
        refused: str | None = None
        components: list[str] = []
        pipeline_class: str | None = None
        try:
            index = json.loads((found.path / "model_index.json").read_text(encoding="utf-8"))
            pipeline_class = index.get("_class_name")
            for key, value in index.items():
                if not key.startswith("_") and isinstance(value, list) and value[:1] != [None]:
                    components.append(key)
        except (OSError, ValueError) as exc:
            refused = f"model_index.json is unreadable: {exc}"
        if refused is None:
            refused = self._dir_weights_problem(found.path, components, files)
        labels, warning = read_marker(found.path / MARKER_FILE)
        return ModelInfo(
            name=found.name,
            kind="diffusers",
            path=found.path,
            size=size,
            files=tuple(files),
            components=tuple(components),
            pipeline_class=pipeline_class,
            labels=labels,
            warning=warning,
            refused=refused,
            linked_to=linked,
        )

    def _dir_weights_problem(
        self, path: Path, components: Sequence[str], files: Sequence[str]
    ) -> str | None:
        for component in components:
            if component not in _WEIGHTED_COMPONENTS:
                continue
            inside = [f for f in files if f.startswith(component + "/")]
            safe = [f for f in inside if f.endswith(".safetensors")]
            pickled = [f for f in inside if PurePosixPath(f).suffix in PICKLE_SUFFIXES]
            if safe:
                continue
            if pickled and not self.allow_pickle:
                return (
                    f"component {component!r} has only pickle weights ({pickled[0]}): "
                    + PICKLE_HELP
                )
            if not pickled:
                return f"component {component!r} has no weights in {path / component}"
        return None

    def _describe_file(
        self, found: _Found, linked: Path | None, *, compute_hash: bool
    ) -> ModelInfo:
        try:
            size = found.path.stat().st_size
        except OSError as exc:  # a dangling symlink
            return ModelInfo(
                found.name,
                found.kind,
                found.path,
                0,
                refused=f"unreadable: {exc}",
                linked_to=linked,
            )
        sidecar = read_sidecar(found.path)
        config = self._recorded_config(sidecar)
        sha = file_sha256(found.path) if compute_hash else cached_sha(sidecar, found.path)
        refused: str | None = None
        components: tuple[str, ...] = ()
        labels: tuple[str, ...] = ()
        if found.kind == "pickle":
            if not self.allow_pickle:
                refused = f"{found.path.suffix} is a pickle format: " + PICKLE_HELP
        else:
            try:
                header = read_safetensors_header(found.path)
            except (OSError, ValueError) as exc:
                refused = f"not a valid safetensors file ({exc}); re-download or re-convert it"
            else:
                components = components_of(header)
                labels = labels_of(header)
        return ModelInfo(
            name=found.name,
            kind=found.kind,
            path=found.path,
            size=size,
            files=(found.path.name,),
            components=components,
            labels=labels,
            warning=TINY_WARNING if TINY_LABEL in labels else None,
            refused=refused,
            sha256=sha,
            config=config,
            linked_to=linked,
        )

    def _recorded_config(self, sidecar: Mapping[str, Any]) -> Path | None:
        value = sidecar.get("config")
        if not isinstance(value, str) or not value:
            return None
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    def _config_dir(self, config: str | os.PathLike[str]) -> Path:
        text = os.fspath(config)
        found = self._scan().get(text.replace("\\", "/"))
        if found is not None and found.kind == "diffusers":
            return found.path
        path = Path(text).expanduser().absolute()
        if not (path / "model_index.json").is_file():
            raise ModelStoreError(
                f"config {text!r} is neither a diffusers model in this store nor a directory "
                "with a model_index.json; give the diffusers directory this checkpoint was "
                "made from (its *.json and *.txt files are enough)"
            )
        return path

    # --- adding -----------------------------------------------------------------------------

    def _add_local(self, source: Path, name: str | None, *, link: bool) -> ModelInfo:
        source = source.absolute()
        if source.is_dir():
            if not (source / "model_index.json").is_file():
                raise ModelStoreError(
                    f"cannot add {source}: it is a directory without model_index.json, so not a "
                    "diffusers model; give a diffusers directory or a .safetensors file"
                )
            relative = check_dir_name(name or source.name)
            target = self.root / relative
        else:
            suffix = source.suffix.lower()
            if suffix not in SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES:
                raise ModelStoreError(
                    f"cannot add {source}: {suffix or 'no extension'} is not a checkpoint format "
                    f"(expected one of {', '.join(SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES)})"
                )
            relative = check_name(name or source.name)
            if PurePosixPath(relative).suffix.lower() != suffix:
                relative += source.suffix  # the extension says what the file is: keep it
            target = self.root / CHECKPOINTS_DIR / relative
        if target.exists() or target.is_symlink():
            raise ModelStoreError(
                f"cannot add {source} as {relative!r}: {target} already exists; "
                "remove it first (`rxgen models remove`) or choose another --name"
            )
        place(source, target, link=link)
        return self._describe(self._found_at(target), compute_hash=False)

    def _found_at(self, target: Path) -> _Found:
        for found in self._scan().values():
            if found.path == target:
                return found
        raise ModelStoreError(
            f"{target} was written but is not visible as a model (too deep, or a hidden name?)"
        )
