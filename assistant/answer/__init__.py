"""Answers: the Answerer (rewrite, catalogue, retrieve, evidence, backend), the answer backend
seam and its registry, the extractive backend, follow-up rewriting and catalogue answers.

    base.py        AnswerBackend, AnswerRequest, Composition: the seam
    registry.py    the one list of answer modes; register_backend() for plugins
    evidence.py    candidate sentences, Evidence, RefusalModel: answer or refuse?
    extractive.py  ExtractiveBackend, the first backend
    answerer.py    Answerer: rewrite, catalogue, retrieve, evidence, backend -> Answer

Nothing is imported here, so `assistant.answer.registry` stays cheap to import (settings and
the CLI read the modes from it).
"""
