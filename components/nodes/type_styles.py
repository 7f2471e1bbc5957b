"""How each value type is drawn in an editor: a colour per type, from the catalog itself.

Well-known types get colours people who used other node editors will recognise; any other type
(a plugin's) gets a stable colour derived from its name, so the client never hard-codes types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

KNOWN = {
    "MODEL": "#b39ddb",
    "CLIP": "#ffd54f",
    "VAE": "#ef5350",
    "CONDITIONING": "#ffa726",
    "LATENT": "#f06292",
    "IMAGE": "#64b5f6",
    "MASK": "#81c784",
    "VIDEO": "#4dd0e1",
    "INT": "#9ccc65",
    "FLOAT": "#aed581",
    "STRING": "#90a4ae",
    "BOOLEAN": "#7986cb",
}


def type_color(name: str) -> str:
    known = KNOWN.get(name)
    if known is not None:
        return known
    digest = hashlib.sha256(name.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    return _hsl_to_hex(hue, 0.55, 0.62)


def type_styles(object_info: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """A style for every type named by an input or output in ``object_info``."""
    names: set[str] = set()
    for node in object_info.values():
        names.update(t for t in node.get("output", ()) if isinstance(t, str))
        for group in ("required", "optional"):
            for spec in node.get("input", {}).get(group, {}).values():
                kind = spec[0] if isinstance(spec, list | tuple) and spec else None
                if isinstance(kind, str):
                    names.add(kind)
                elif isinstance(kind, list | tuple):
                    names.add("COMBO")
    return {name: {"color": type_color(name)} for name in sorted(names)}


def _hsl_to_hex(hue: int, saturation: float, lightness: float) -> str:
    chroma = (1 - abs(2 * lightness - 1)) * saturation
    x = chroma * (1 - abs((hue / 60) % 2 - 1))
    m = lightness - chroma / 2
    sector = hue // 60
    r, g, b = [
        (chroma, x, 0.0),
        (x, chroma, 0.0),
        (0.0, chroma, x),
        (0.0, x, chroma),
        (x, 0.0, chroma),
        (chroma, 0.0, x),
    ][sector]
    return "#" + "".join(f"{round((v + m) * 255):02x}" for v in (r, g, b))
