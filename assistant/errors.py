"""The one small exception tree. Interfaces (CLI, UI) catch `AssistantError` and show its
message as one line; every message says what to do next."""

from __future__ import annotations

__all__ = [
    "AnswerBackendError",
    "AssistantError",
    "DeviceError",
    "DocumentError",
    "EncoderError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexUnavailableError",
    "IndexWriteError",
    "InputError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ReadOnlyError",
    "StartingError",
    "require",
]


class AssistantError(Exception):
    """Base class for every error a user can cause or fix."""


class InputError(AssistantError):
    """A question, path or upload that cannot be used as given."""


class DocumentError(AssistantError):
    """A document that cannot be read: unsupported type, empty, binary or unreadable."""


class ModelNotFoundError(AssistantError):
    """The embedding model is not installed or not found at the configured path."""


class EncoderError(AssistantError):
    """The ONNX encoder could not be exported, verified or loaded for this model."""


class DeviceError(AssistantError):
    """The configured device (ASSISTANT_DEVICE) is not available on this machine."""


class IndexMissingError(AssistantError):
    """There is no index where one was expected."""


class IndexCorruptError(AssistantError):
    """The index on disk is unreadable, truncated or inconsistent."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings than the ones in use."""


class IndexUnavailableError(AssistantError):
    """The index's database cannot be reached, or lacks what the index needs (pgvector)."""


class IndexWriteError(AssistantError):
    """The index could not be written (its disk is full); the index on disk is as it was."""


class AnswerBackendError(AssistantError):
    """An answer backend that is unknown, not installed, or failed while writing an answer."""


class MissingDependencyError(AssistantError):
    """A feature's optional dependency (a pip extra) is not installed."""


def require(module: str, *, extra: str, feature: str, load: bool = True) -> None:
    """Check that an optional dependency imports, before any slow work starts.

    The core install is the library, the CLI and the evals; the web chat, the endpoint's
    server and the eval chart come with pip extras. Raises MissingDependencyError, e.g.
    require("gradio", extra="ui", feature="the web chat") ->
    "the web chat needs gradio, which is not installed: pip install 'assistant[ui]'".
    With load=False it only checks that the module is installed, without importing it
    (Gradio takes seconds to import; the web chat imports it later, in the background).
    """
    import importlib
    import importlib.util

    try:
        if load:
            importlib.import_module(module)
        elif importlib.util.find_spec(module) is None:
            raise ImportError(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs {module}, which is not installed: pip install 'assistant[{extra}]'"
        ) from exc


class StartingError(AssistantError):
    """A server was asked for its assistant while starting, and the assistant failed to load."""


class ReadOnlyError(InputError):
    """A change to the documents asked of an assistant served read-only."""
