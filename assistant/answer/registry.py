"""The one list of answer backends: every mode that settings, the CLI, the web chat and the
eval runner offer comes from here.

A backend is registered by name with a factory that takes the Settings and returns an
`AnswerBackend`. Built-in factories are named as "module:attribute" strings and imported
only when that backend is first used, so listing the modes stays cheap and a backend's
dependencies are needed only by those who use it.

    available_backends()                          -> ("extractive",)
    create_backend("extractive", settings)        -> ExtractiveBackend
    register_backend("echo", EchoBackend, description="Repeats the question.")  # plugins, tests

Adding a backend:
  1. assistant/answer/<name>.py: a class with `name` and `stream(request)` (answer/base.py),
     built as Class(settings); raise AnswerBackendError for what a person must fix.
  2. One line in _BUILTIN below: "<name>": _Entry("assistant.answer.<name>:Class", "what it does").
  3. Its settings in settings.py; its third-party packages in a pyproject.toml extra (e.g.
     [llm]), imported inside the module, never by settings or the registry (a missing one is
     an AnswerBackendError naming it); its tests drive it through the Answerer, as
     tests/test_answer_backends.py does with a fake.
The CLI's --mode, the web chat's mode control, `assistant eval --mode` and Settings.answer_mode
then offer it with no other change.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import AnswerBackendError

if TYPE_CHECKING:
    from ..settings import Settings
    from .base import AnswerBackend

__all__ = [
    "BackendFactory",
    "available_backends",
    "backend_descriptions",
    "check_backend",
    "create_backend",
    "register_backend",
    "resolve_backend",
    "unregister_backend",
]

BackendFactory = Callable[["Settings"], "AnswerBackend"]


@dataclass(frozen=True, slots=True)
class _Entry:
    factory: BackendFactory | str  # a callable, or "module:attribute" imported on first use
    description: str


# One line per backend. The first is the default mode (Settings.answer_mode).
_BUILTIN: dict[str, _Entry] = {
    "extractive": _Entry(
        "assistant.answer.extractive:ExtractiveBackend",
        "Sentences copied from the documents, each cited.",
    ),
    "openai": _Entry(
        "assistant.answer.llm:OpenAIBackend",
        "An OpenAI or OpenAI-compatible model writes; every sentence is checked.",
    ),
    "ollama": _Entry(
        "assistant.answer.llm:OllamaBackend",
        "A model served by Ollama writes; every sentence is checked.",
    ),
    "anthropic": _Entry(
        "assistant.answer.llm:AnthropicBackend",
        "An Anthropic model writes; every sentence is checked.",
    ),
    "local": _Entry(
        "assistant.answer.llm:LocalBackend",
        "A small model on this machine writes (offline); every sentence is checked.",
    ),
}

_registry: dict[str, _Entry] = dict(_BUILTIN)
_lock = threading.Lock()


def register_backend(
    name: str, factory: BackendFactory | str, *, description: str = "", replace: bool = False
) -> None:
    """Offer a backend under name: factory(settings) -> AnswerBackend, or "module:attr".

    Raises ValueError when name is taken (pass replace=True to swap it) or not a plain word.
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"backend name {name!r} must be a plain word, like 'ollama'")
    with _lock:
        if name in _registry and not replace:
            raise ValueError(f"an answer backend named {name!r} is already registered")
        _registry[name] = _Entry(factory, description)


def unregister_backend(name: str) -> None:
    """Withdraw a registered backend (tests clean up with this); built-ins stay."""
    with _lock:
        if name in _BUILTIN:
            _registry[name] = _BUILTIN[name]
        else:
            _registry.pop(name, None)


def available_backends() -> tuple[str, ...]:
    """The answer modes on offer, the default first."""
    with _lock:
        return tuple(_registry)


def backend_descriptions() -> dict[str, str]:
    """Each mode's one-line description, for help texts and the web chat."""
    with _lock:
        return {name: entry.description for name, entry in _registry.items()}


def check_backend(name: str) -> str:
    """name, if it is a registered mode; imports nothing, so an unknown mode (e.g. from
    ASSISTANT_ANSWER_MODE) fails at once, before any model loads.

    Raises AnswerBackendError: "there is no answer mode named 'x': use one of extractive".
    """
    _entry(name)
    return name


def _entry(name: str) -> _Entry:
    with _lock:
        entry = _registry.get(name)
        known = tuple(_registry)
    if entry is None:
        raise AnswerBackendError(
            f"there is no answer mode named {name!r}: use one of {', '.join(known)}"
        )
    return entry


def resolve_backend(name: str) -> BackendFactory:
    """The factory registered for mode name, imported if it was named as a string.

    Raises AnswerBackendError for an unknown name, or one whose module cannot be imported
    (typically an optional dependency that is not installed).
    """
    entry = _entry(name)
    if not isinstance(entry.factory, str):
        return entry.factory
    module_name, _, attr = entry.factory.partition(":")
    try:
        factory: BackendFactory = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise AnswerBackendError(
            f"the {name!r} answer mode needs {exc.name or module_name}, which is not "
            "installed: install it or pick another mode"
        ) from exc
    return factory


def create_backend(name: str, settings: Settings) -> AnswerBackend:
    """A new backend for mode name, built from settings (errors as resolve_backend)."""
    return resolve_backend(name)(settings)
