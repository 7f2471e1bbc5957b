"""Plugins are found through real entry points: fake distributions on a temporary sys.path."""

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from components.nodes import default_catalog
from drivers.nodes.light_ops import LIGHT_OPS
from drivers.nodes.plugins import (
    ENTRY_POINT_GROUP,
    PluginScan,
    build_registry,
    discover_plugins,
)

GOOD_MODULE = """
from components.nodes.schema import NodeDef, float_input, output, socket


def _brighten(inputs):
    return ((inputs["image"] + inputs["amount"]).clamp(0, 1),)


class Provider:
    def node_definitions(self):
        return [
            NodeDef(
                name="FakeBrighten",
                category="fake",
                required=(socket("image", "IMAGE"), float_input("amount", 0.1)),
                outputs=(output("IMAGE"),),
            ),
            {"name": "FakeConstant", "outputs": [{"type": "INT"}]},
        ]

    def node_implementations(self):
        return {"FakeBrighten": _brighten, "FakeConstant": lambda inputs: (7,)}
"""

BROKEN_IMPORT = "raise ImportError('needs the package opencv, which is not installed')\n"

NO_IMPLEMENTATION = """
from components.nodes.schema import NodeDef, output


class provider:
    @staticmethod
    def node_definitions():
        return [NodeDef(name="Lonely", outputs=(output("INT"),))]

    @staticmethod
    def node_implementations():
        return {}
"""

CLASHING = """
from components.nodes.schema import NodeDef, output, socket


def node_definitions():
    return [NodeDef(name="ImageInvert", required=(socket("image", "IMAGE"),),
                    outputs=(output("IMAGE"),))]


def node_implementations():
    return {"ImageInvert": lambda inputs: (inputs["image"],)}
"""


def make_distribution(root: Path, dist: str, module: str, source: str, target: str) -> None:
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""\
            [{ENTRY_POINT_GROUP}]
            nodes = {module}:{target}
            """
        )
    )


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    suffix = f"_{abs(hash(str(tmp_path))) % 10**8}"
    modules = {
        "good": f"rxgen_fake_good{suffix}",
        "broken": f"rxgen_fake_broken{suffix}",
        "lonely": f"rxgen_fake_lonely{suffix}",
        "clash": f"rxgen_fake_clash{suffix}",
        "wrong": f"rxgen_fake_wrong{suffix}",
    }
    make_distribution(tmp_path, "fake-good-nodes", modules["good"], GOOD_MODULE, "Provider")
    make_distribution(tmp_path, "fake-broken-nodes", modules["broken"], BROKEN_IMPORT, "x")
    make_distribution(
        tmp_path, "fake-lonely-nodes", modules["lonely"], NO_IMPLEMENTATION, "provider"
    )
    make_distribution(tmp_path, "fake-clash-nodes", modules["clash"], CLASHING, "")
    make_distribution(tmp_path, "fake-wrong-nodes", modules["wrong"], "VALUE = 3\n", "VALUE")
    # Point the clashing entry point at the module itself (it has the two functions).
    clash_info = tmp_path / "fake_clash_nodes-1.0.dist-info" / "entry_points.txt"
    clash_info.write_text(f"[{ENTRY_POINT_GROUP}]\nnodes = {modules['clash']}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield suffix
    for module in modules.values():
        sys.modules.pop(module, None)


def ours(scan: PluginScan) -> PluginScan:
    """Only the fake distributions, whatever else is installed."""
    return PluginScan(
        tuple(p for p in scan.packs if p.distribution.startswith("fake-")),
        tuple(e for e in scan.errors if e.distribution.startswith("fake-")),
    )


def test_discovery_loads_good_plugins_and_reports_broken_ones(plugin_path: str) -> None:
    scan = ours(discover_plugins())
    assert [pack.name for pack in scan.packs] == ["fake-clash-nodes:nodes", "fake-good-nodes:nodes"]
    errors = {error.distribution: error for error in scan.errors}
    assert set(errors) == {"fake-broken-nodes", "fake-lonely-nodes", "fake-wrong-nodes"}
    assert "ImportError: needs the package opencv" in errors["fake-broken-nodes"].message
    assert "Lonely are defined but have no implementation" in errors["fake-lonely-nodes"].message
    assert "without node_definitions()" in errors["fake-wrong-nodes"].message
    assert str(errors["fake-broken-nodes"]).startswith(
        "plugin 'nodes' of distribution 'fake-broken-nodes':"
    )

    good = next(pack for pack in scan.packs if pack.distribution == "fake-good-nodes")
    assert [d.name for d in good.definitions] == ["FakeBrighten", "FakeConstant"]
    assert good.definitions[0].python_module == "custom_nodes.fake-good-nodes"


def test_registry_adds_plugin_nodes_and_rejects_clashes(plugin_path: str) -> None:
    registry = build_registry(default_catalog(), LIGHT_OPS, ours(discover_plugins()))
    assert "FakeBrighten" in registry.catalog
    assert registry.catalog.source_of("FakeBrighten") == "fake-good-nodes:nodes"
    clash = [e for e in registry.errors if e.distribution == "fake-clash-nodes"]
    assert len(clash) == 1
    assert "'ImageInvert' is defined by both 'light' and 'fake-clash-nodes:nodes'" in str(clash[0])
    assert registry.implementations["ImageInvert"] is LIGHT_OPS["ImageInvert"]

    (out,) = registry.implementations["FakeBrighten"](
        {"image": torch.zeros(1, 2, 2, 3), "amount": 0.25}
    )
    assert torch.allclose(out, torch.full((1, 2, 2, 3), 0.25))
    assert registry.implementations["FakeConstant"]({}) == (7,)
