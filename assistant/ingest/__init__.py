"""Ingest: files -> Documents (loaders) -> Chunks with exact offsets (chunking)."""

from .chunking import TokenSpans, chunk_document, split_sentences
from .loaders import SUPPORTED_SUFFIXES, load_document, load_folder, scan_folder

__all__ = [
    "SUPPORTED_SUFFIXES",
    "TokenSpans",
    "chunk_document",
    "load_document",
    "load_folder",
    "scan_folder",
    "split_sentences",
]
