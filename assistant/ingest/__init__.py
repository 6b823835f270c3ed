"""Ingest: files -> Documents (loaders) -> Chunks with exact offsets (chunking)."""

from .chunking import TokenSpans, chunk_document, split_sentences
from .loaders import (
    SUPPORTED_SUFFIXES,
    load_document,
    load_documents,
    load_folder,
    scan_folder,
    source_file,
)

__all__ = [
    "SUPPORTED_SUFFIXES",
    "TokenSpans",
    "chunk_document",
    "load_document",
    "load_documents",
    "load_folder",
    "scan_folder",
    "source_file",
    "split_sentences",
]
