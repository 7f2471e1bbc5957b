import json

import pytest

from components.nodes import (
    CORE_NODES,
    LIGHT_NODES,
    Catalog,
    DuplicateNodeTypeError,
    UnknownNodeTypeError,
    default_catalog,
)
from components.nodes.schema import NodeDef, int_input, output


def test_default_catalog_holds_core_light_and_video_nodes() -> None:
    from components.nodes.video import VIDEO_NODES

    catalog = default_catalog()
    assert len(catalog) == len(CORE_NODES) + len(LIGHT_NODES) + len(VIDEO_NODES)
    assert catalog.source_of("VideoTransition") == "video"
    for name in ("KSampler", "CheckpointLoaderSimple", "SaveImage", "ImageScale", "Seed"):
        assert name in catalog
    assert catalog.source_of("KSampler") == "core"
    assert catalog.source_of("ImageBlend") == "light"


def test_unknown_name_suggests_close_matches() -> None:
    catalog = default_catalog()
    with pytest.raises(UnknownNodeTypeError) as caught:
        catalog.get("KSamplr")
    assert caught.value.close_matches[0] == "KSampler"
    assert "did you mean 'KSampler'" in str(caught.value)
    with pytest.raises(UnknownNodeTypeError, match="install the plugin"):
        catalog.get("Zzzzzzzzz")
    assert catalog.close_matches("ksampler")[0] == "KSampler"


def test_duplicate_names_across_sources_name_both_sources() -> None:
    extra = NodeDef(name="KSampler", outputs=(output("LATENT"),))
    with pytest.raises(DuplicateNodeTypeError) as caught:
        Catalog.from_sources({"core": CORE_NODES, "plugin:x": [extra]})
    assert caught.value.first_source == "core"
    assert caught.value.second_source == "plugin:x"
    assert "'KSampler' is defined by both 'core' and 'plugin:x'" in str(caught.value)


def test_merge_returns_a_new_catalog_and_keeps_the_old_one() -> None:
    base = Catalog(LIGHT_NODES, source="light")
    extra = NodeDef(name="Doubler", required=(int_input("x"),), outputs=(output("INT"),))
    merged = base.merged([extra], source="mine")
    assert "Doubler" in merged and "Doubler" not in base
    assert merged.source_of("Doubler") == "mine"
    again = Catalog(CORE_NODES, source="core").merged(merged)
    assert again.source_of("Doubler") == "mine"
    assert again.source_of("PrimitiveInt") == "light"


def test_catalog_rejects_non_definitions() -> None:
    with pytest.raises(TypeError, match="source 'bad' gave dict"):
        Catalog([{"name": "X"}], source="bad")  # type: ignore[list-item]


def test_iteration_and_exports() -> None:
    catalog = default_catalog()
    assert [node.name for node in catalog] == list(catalog.names())
    exported = catalog.to_json()
    assert exported["format"] == "rxgen.catalog"
    first = json.loads(json.dumps(exported))["nodes"][0]  # plain JSON data
    assert first.pop("source") == "core"
    assert NodeDef.model_validate(first) == next(iter(catalog))
    info = catalog.to_object_info({"checkpoints": ["x.ckpt"]})
    assert json.loads(json.dumps(info)) == info
    assert set(info) == set(catalog.names())
    assert info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == ["x.ckpt"]  # type: ignore[index]
