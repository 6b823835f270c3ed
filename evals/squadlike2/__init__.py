"""Held-out SQuAD-style set (README.md). A package only so that mypy names its validate.py
squadlike2.validate, apart from evals/squadlike/validate.py."""
