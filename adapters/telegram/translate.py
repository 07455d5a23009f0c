"""Telegram Update payloads (Bot API JSON) to core messages and feedback votes: pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.feedback import FeedbackVote, decode_vote
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender

PLATFORM = "telegram"

# Telegram's service accounts that stand in for a chat: anonymous group admins, and
# users posting on behalf of a channel. Their messages are people's, so they are answered.
GROUP_ANONYMOUS_BOT_ID = 1087968824
CHANNEL_BOT_ID = 136817688
_SERVICE_SENDERS = (GROUP_ANONYMOUS_BOT_ID, CHANNEL_BOT_ID)

# What follows a mention and goes with it: "@bot, hi" → "hi".
_AFTER_MENTION = re.compile(r"^[,:;]?[ \t]*")


@dataclass(frozen=True)
class BotIdentity:
    """The bot itself, as getMe reports it: needed to see mentions and replies to the bot."""

    id: int
    username: str


def conversation_of(message: Mapping[str, Any]) -> ConversationRef:
    """The conversation a message belongs to: its chat, and its forum topic if it has one."""
    chat = message["chat"]
    thread = message.get("message_thread_id") if message.get("is_topic_message") else None
    if chat.get("type") == "private":
        kind = PlaceKind.PRIVATE
    else:
        kind = PlaceKind.GROUP if thread is None else PlaceKind.THREAD
    return ConversationRef(
        PLATFORM, None, str(chat["id"]), None if thread is None else str(thread), kind
    )


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def _span(text: str, entity: Mapping[str, Any]) -> str:
    """The text an entity covers (Telegram offsets count UTF-16 units)."""
    encoded = _utf16(text)
    start = int(entity["offset"]) * 2
    end = start + int(entity["length"]) * 2
    return encoded[start:end].decode("utf-16-le", "surrogatepass")


def _remove_spans(text: str, spans: Sequence[Mapping[str, Any]]) -> str:
    """`text` without the entity spans, joined tidily where they were ("hi @bot, x" → "hi x")."""
    encoded = _utf16(text)
    pieces: list[str] = []
    cursor = 0
    for entity in sorted(spans, key=lambda e: int(e["offset"])):
        start = int(entity["offset"]) * 2
        pieces.append(encoded[cursor:start].decode("utf-16-le", "surrogatepass"))
        cursor = start + int(entity["length"]) * 2
    pieces.append(encoded[cursor:].decode("utf-16-le", "surrogatepass"))
    tidy = [pieces[0].rstrip(" \t")]
    tidy += [_AFTER_MENTION.sub("", piece).rstrip(" \t") for piece in pieces[1:-1]]
    tidy += [_AFTER_MENTION.sub("", pieces[-1])] if len(pieces) > 1 else []
    return " ".join(piece for piece in tidy if piece).strip()


def _sender(message: Mapping[str, Any]) -> Sender | None:
    """Who wrote the message, or None when it comes from a bot the bridge must not answer."""
    author = message.get("from")
    sender_chat = message.get("sender_chat")
    if sender_chat is not None and (author is None or author.get("id") in _SERVICE_SENDERS):
        title = sender_chat.get("title") or sender_chat.get("username") or ""
        return Sender(id=str(sender_chat["id"]), display_name=title)
    if author is None or author.get("is_bot"):
        return None
    name = " ".join(part for part in (author.get("first_name"), author.get("last_name")) if part)
    return Sender(
        id=str(author["id"]),
        display_name=name or author.get("username", ""),
        is_bot=False,
        locale_hint=author.get("language_code"),
    )


def _replied_message(message: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The message this one answers; in forum topics the topic's opening is not a reply."""
    replied: Mapping[str, Any] | None = message.get("reply_to_message")
    if replied is None or "forum_topic_created" in replied:
        return None
    return replied


def to_incoming_message(update: Mapping[str, Any], bot: BotIdentity) -> IncomingMessage | None:
    """The message an Update carries, normalized; None when there is nothing to answer.

    Only new messages in private chats, groups and supergroups count: edits, channel
    posts, service messages, media without a caption and bots' messages give None. A group
    message the bot is not addressed in is returned with `addressed_to_bot=False`.
    """
    message = update.get("message")
    if message is None:
        return None
    chat_type = message["chat"].get("type")
    if chat_type not in ("private", "group", "supergroup") or message.get("is_automatic_forward"):
        return None
    sender = _sender(message)
    text = message.get("text")
    entities: Sequence[Mapping[str, Any]] = message.get("entities", ())
    if text is None:
        text = message.get("caption")
        entities = message.get("caption_entities", ())
    if sender is None or text is None:
        return None
    replied = _replied_message(message)
    own = bot.username.lower()
    mentions = [
        entity
        for entity in entities
        if (entity["type"] == "mention" and _span(text, entity).lower() == f"@{own}")
        or (entity["type"] == "text_mention" and entity.get("user", {}).get("id") == bot.id)
    ]
    command_for_us = False
    commands = [e for e in entities if e["type"] == "bot_command" and int(e["offset"]) == 0]
    if commands:
        name, _, target = _span(text, commands[0]).partition("@")
        if not target or target.lower() == own:
            command_for_us = True
            # "/help@bot args" reads as "/help args": the core knows commands without a target.
            text = name + _utf16(text)[int(commands[0]["length"]) * 2 :].decode(
                "utf-16-le", "surrogatepass"
            )
            entities = [e for e in entities if e is not commands[0]]
            mentions = []
    addressed = (
        chat_type == "private"
        or bool(mentions)
        or command_for_us
        or (replied is not None and replied.get("from", {}).get("id") == bot.id)
    )
    return IncomingMessage(
        id=str(message["message_id"]),
        conversation=conversation_of(message),
        sender=sender,
        text=_remove_spans(text, mentions) if mentions else text.strip(),
        sent_at=datetime.fromtimestamp(int(message["date"]), UTC),
        addressed_to_bot=addressed,
        reply_to=None if replied is None else str(replied["message_id"]),
        raw=update,
    )


def to_feedback(update: Mapping[str, Any]) -> FeedbackVote | None:
    """The feedback vote a callback_query Update carries, or None for any other update."""
    query = update.get("callback_query")
    if query is None or query.get("message") is None:
        return None
    decoded = decode_vote(str(query.get("data", "")))
    if decoded is None:
        return None
    reply_id, value = decoded
    return FeedbackVote(
        event_id=str(query["id"]),
        conversation=conversation_of(query["message"]),
        reply_id=reply_id,
        sender_id=str(query["from"]["id"]),
        value=value,
        locale_hint=query["from"].get("language_code"),
    )
