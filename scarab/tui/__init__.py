"""The Textual client: app, terminal widget, keys, styles, picker, status bar (no pyte, no daemon here)."""
