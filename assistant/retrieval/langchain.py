"""The hybrid retriever as a LangChain retriever, so it plugs into LangChain chains.

retriever = bot.as_retriever(k=5)
docs = retriever.invoke("How much has Amazon invested in Anthropic?")
docs[0].metadata  # source, start, end, page, headings, chunk_id, score, ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

if TYPE_CHECKING:
    from ..schema import Hit

__all__ = ["AssistantRetriever", "hit_to_document"]


def hit_to_document(hit: Hit) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text,
        id=c.id,
        metadata={
            "source": c.source,
            "start": c.start,
            "end": c.end,
            "page": c.page,
            "headings": list(c.headings),
            "ordinal": c.ordinal,
            "chunk_id": c.id,
            "score": hit.score,
            "dense_score": hit.dense_score,
            "lexical_score": hit.lexical_score,
        },
    )


class AssistantRetriever(BaseRetriever):
    """Hybrid (dense + BM25) retrieval over an Assistant's index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any  # an assistant.Assistant; Any keeps pydantic from inspecting it
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [hit_to_document(h) for h in self.assistant.retrieve(query, k=self.k)]
