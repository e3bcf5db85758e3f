"""Scarab: a terminal multiplexer whose sessions outlive clients, daemons and reboots."""

__version__ = "0.1.0"
