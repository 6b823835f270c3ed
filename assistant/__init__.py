"""assistant: grounded, offline question answering over a folder of documents.

from assistant import Assistant
bot = Assistant.from_folder("seeds", index_dir="index")
answer = bot.ask("How much has Amazon invested in Anthropic?")
print(answer.text)            # sentences copied from the documents, each ending in [n]
for c in answer.citations:    # n, source, start, end, quote, page
    print(c.n, c.source, c.start, c.end)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AnswerBackendError,
    AssistantError,
    DocumentError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
    ModelNotFoundError,
)
from .schema import Answer, Chunk, Citation, Document, Hit, SkippedFile, SyncReport
from .settings import Settings

if TYPE_CHECKING:
    from .pipeline import Assistant

__all__ = [
    "Answer",
    "AnswerBackendError",
    "Assistant",
    "AssistantError",
    "Chunk",
    "Citation",
    "Document",
    "DocumentError",
    "Hit",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "InputError",
    "ModelNotFoundError",
    "Settings",
    "SkippedFile",
    "SyncReport",
]


def __getattr__(name: str) -> Any:
    # Assistant pulls in numpy, faiss and friends: import it on first use so that
    # `assistant --help` and light imports stay fast.
    if name == "Assistant":
        from .pipeline import Assistant

        return Assistant
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
