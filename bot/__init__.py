"""The platform-neutral core of medbot: commands, replies, state, watcher and CLI."""

__version__ = "0.1.0"
