"""The ids of the message being handled, which every log line written meanwhile carries.

Whoever starts handling a message enters `message_ids(...)`; tasks started inside inherit the
ids (asyncio copies the context), and the bots' JSON log format writes them as fields. Ids
only: never message text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from core.messages import IncomingMessage

_ids: ContextVar[Mapping[str, str]] = ContextVar(
    "bloombridge_log_ids", default=MappingProxyType({})
)


@contextmanager
def message_ids(message: IncomingMessage, **more: str) -> Iterator[None]:
    """Log lines written inside carry the message's platform, conversation and message id."""
    ids = {
        "platform": message.conversation.platform,
        "conversation": message.conversation.key,
        "message_id": message.id,
        **more,
    }
    token = _ids.set(MappingProxyType({**_ids.get(), **ids}))
    try:
        yield
    finally:
        _ids.reset(token)


def current_ids() -> Mapping[str, str]:
    """The ids of the message being handled in this context (empty outside any)."""
    return _ids.get()
