"""Entry point for `python -m scarab`."""

from scarab.cli import main

raise SystemExit(main())
