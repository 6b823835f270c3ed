"""Load a script of evals/ as a module, for tests of its functions (evals/ is not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

EVALS = Path(__file__).resolve().parent.parent / "evals"


def load_eval_script(name: str) -> ModuleType:
    """evals/<name>.py, imported afresh.

    Example: load_eval_script("score_verifier").rates(rows, 0.25)
    """
    spec = importlib.util.spec_from_file_location(name, EVALS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
