"""The exceptions raised by the models directory, its hub downloads and its file checks."""

from __future__ import annotations

__all__ = ["HubUnavailable", "ModelStoreError", "RefusedModel", "UnknownModel"]


class ModelStoreError(Exception):
    """A models-directory operation failed; the message says what, where and what to do."""


class UnknownModel(ModelStoreError, LookupError):
    """No model has that name."""


class RefusedModel(ModelStoreError):
    """The model exists but will not be loaded (pickle weights, unreadable file)."""


class HubUnavailable(ModelStoreError):
    """A Hugging Face hub download was asked for but the hub cannot be reached or is disabled."""
