"""Entry point for `python -m scarab` (as the `scarab` command: `scarab.launch`)."""

from scarab.launch import main

raise SystemExit(main())
