"""Video: frame sequences streamed in chunks (VIDEO values), codecs, transforms, transitions.

See :mod:`drivers.video.chunks` for the VIDEO value and :mod:`drivers.video.nodes` for the
node implementations.
"""

from __future__ import annotations

# drivers.nodes' registry imports drivers.video.nodes, which imports drivers.nodes modules:
# loading drivers.nodes first, whichever of the two a program imports first, keeps that cycle
# from meeting a half-initialised module.
import drivers.nodes  # noqa: F401
