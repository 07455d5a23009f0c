"""An `IncomingMessage` as the fields of a stream entry (versioned JSON) and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import StoreError
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender

# Raised whenever the layout of `message` changes: a worker refuses entries newer than itself.
CODEC_VERSION = 1


@dataclass(frozen=True)
class QueuedMessage:
    """A stream entry read back: its id and its message."""

    entry_id: str
    message: IncomingMessage
    queued_at: float  # wall-clock seconds when the ingress appended it


def encode(message: IncomingMessage, queued_at: float) -> dict[str, str]:
    """The stream entry fields for `message` (the raw payload travels too: sinks may need it)."""
    conversation = message.conversation
    body = {
        "id": message.id,
        "conversation": {
            "platform": conversation.platform,
            "space": conversation.space,
            "channel": conversation.channel,
            "thread": conversation.thread,
            "kind": conversation.kind.value,
        },
        "sender": {
            "id": message.sender.id,
            "display_name": message.sender.display_name,
            "is_bot": message.sender.is_bot,
            "locale_hint": message.sender.locale_hint,
        },
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
        "addressed_to_bot": message.addressed_to_bot,
        "reply_to": message.reply_to,
        # Payloads are JSON already; anything else a translator put there becomes its text.
        "raw": dict(message.raw),
    }
    return {
        "v": str(CODEC_VERSION),
        "at": repr(queued_at),
        "message": json.dumps(body, ensure_ascii=False, default=str),
    }


def decode(entry_id: str, fields: Mapping[str, str]) -> QueuedMessage:
    """The message of a stream entry; StoreError when the entry is not one this version reads."""
    try:
        version = int(fields["v"])
        if version > CODEC_VERSION:
            raise StoreError(f"stream entry {entry_id} has version {version}, newer than this one")
        body: dict[str, Any] = json.loads(fields["message"])
        place = body["conversation"]
        person = body["sender"]
        message = IncomingMessage(
            id=str(body["id"]),
            conversation=ConversationRef(
                platform=place["platform"],
                space=place["space"],
                channel=place["channel"],
                thread=place["thread"],
                kind=PlaceKind(place["kind"]),
            ),
            sender=Sender(
                id=person["id"],
                display_name=person["display_name"],
                is_bot=bool(person["is_bot"]),
                locale_hint=person["locale_hint"],
            ),
            text=body["text"],
            sent_at=datetime.fromisoformat(body["sent_at"]),
            addressed_to_bot=bool(body["addressed_to_bot"]),
            reply_to=body["reply_to"],
            raw=body["raw"],
        )
        return QueuedMessage(entry_id, message, float(fields["at"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"stream entry {entry_id} is not a queued message: {exc}") from exc
