"""python -m assistant -> the CLI."""

from .cli import main

raise SystemExit(main())
