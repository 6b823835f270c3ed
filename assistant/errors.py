"""The one small exception tree. Interfaces (CLI, UI) catch `AssistantError` and show its
message as one line; every message says what to do next."""

from __future__ import annotations

__all__ = [
    "AnswerBackendError",
    "AssistantError",
    "DocumentError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexUnavailableError",
    "InputError",
    "ModelNotFoundError",
]


class AssistantError(Exception):
    """Base class for every error a user can cause or fix."""


class InputError(AssistantError):
    """A question, path or upload that cannot be used as given."""


class DocumentError(AssistantError):
    """A document that cannot be read: unsupported type, empty, binary or unreadable."""


class ModelNotFoundError(AssistantError):
    """The embedding model is not installed or not found at the configured path."""


class IndexMissingError(AssistantError):
    """There is no index where one was expected."""


class IndexCorruptError(AssistantError):
    """The index on disk is unreadable, truncated or inconsistent."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings than the ones in use."""


class IndexUnavailableError(AssistantError):
    """The index's database cannot be reached, or lacks what the index needs (pgvector)."""


class AnswerBackendError(AssistantError):
    """An answer backend that is unknown, not installed, or failed while writing an answer."""
