"""Export and import of a session as one file (rxcore.log_bundle)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from rxcore.log import LogReader
from rxcore.log_bundle import BundleError, export_bundle, import_bundle, read_manifest

from .log_samples import write_sample


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    write_sample(data / "logs" / "s1")
    (data / "output").mkdir()
    (data / "output" / "a.png").write_bytes(b"\x89PNG fake but real bytes")
    out = tmp_path / "s1.rxlog"
    export_bundle(data / "logs" / "s1", out, {"output/a.png": data / "output" / "a.png"})
    return out


def test_a_bundle_restores_the_log_and_its_files_byte_for_byte(
    exported: Path, tmp_path: Path
) -> None:
    manifest = read_manifest(exported)
    assert manifest.log == "s1" and manifest.data_files == ["output/a.png"]
    done = import_bundle(exported, tmp_path / "other")
    assert done.log == tmp_path / "other" / "logs" / "s1"
    source = tmp_path / "data" / "logs" / "s1"
    for f in source.iterdir():
        assert (done.log / f.name).read_bytes() == f.read_bytes()
    assert (tmp_path / "other" / "output" / "a.png").read_bytes() == b"\x89PNG fake but real bytes"
    with LogReader(done.log) as a, LogReader(source) as b:
        assert list(a.entries()) == list(b.entries())


def test_importing_twice_or_over_different_files_is_refused(exported: Path, tmp_path: Path) -> None:
    import_bundle(exported, tmp_path / "other")
    with pytest.raises(BundleError, match="already exists"):
        import_bundle(exported, tmp_path / "other")
    third = tmp_path / "third"
    (third / "output").mkdir(parents=True)
    (third / "output" / "a.png").write_bytes(b"something else")
    with pytest.raises(BundleError, match="different content"):
        import_bundle(exported, third)
    assert (third / "output" / "a.png").read_bytes() == b"something else"


def test_a_damaged_or_hostile_bundle_is_refused(exported: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(exported) as source:
        members = {n: source.read(n) for n in source.namelist()}
    damaged = tmp_path / "damaged.rxlog"
    with zipfile.ZipFile(damaged, "w") as target:
        for name, data in members.items():
            target.writestr(name, data + b"!" if name == "data/output/a.png" else data)
    with pytest.raises(BundleError, match="does not match its sha256"):
        import_bundle(damaged, tmp_path / "d")
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["data/../escape.txt"] = {"sha256": "0" * 64, "size": 1}
    hostile = tmp_path / "hostile.rxlog"
    with zipfile.ZipFile(hostile, "w") as target:
        for name, data in members.items():
            target.writestr(name, json.dumps(manifest) if name == "manifest.json" else data)
        target.writestr("data/../escape.txt", "x")
    with pytest.raises(BundleError, match="not a plain relative path"):
        import_bundle(hostile, tmp_path / "h")
    assert not (tmp_path / "escape.txt").exists()
    (tmp_path / "plain.zip").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="cannot open"):
        import_bundle(tmp_path / "plain.zip", tmp_path / "p")
