"""The daemon side of Scarab: server, registry, store, session hosts, emulator and PTY (no textual here)."""
