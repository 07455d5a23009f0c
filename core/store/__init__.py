"""Conversation state behind one `Store` interface: Redis or in-process."""

from core.store.base import Store

__all__ = ["Store"]
