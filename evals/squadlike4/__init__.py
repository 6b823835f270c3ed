"""Held-out SQuAD-style set (README.md). A package only so that mypy names its validate.py
squadlike4.validate, apart from the other sets' validate.py."""
