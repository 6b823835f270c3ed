"""Retrieval: dense (FAISS), lexical (BM25), fused by reciprocal rank fusion."""
