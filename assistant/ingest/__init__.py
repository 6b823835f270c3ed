"""Ingest: files -> Documents (loaders) -> Chunks with exact offsets (chunking)."""
