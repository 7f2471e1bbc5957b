"""Stable Diffusion through diffusers: the models directory, the model manager, tiny test models.

Submodules are imported on demand (``drivers.diffusion.models``, ``.manager``, ``.tiny``): torch
and diffusers take seconds to import, and code that only lists models should not pay for that.
"""
