"""Slack payloads (Events API envelopes, slash commands, block actions) to core messages: pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.feedback import FeedbackVote, decode_vote
from core.commands import CATALOGUE, command_text
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender

PLATFORM = "slack"

# Message subtypes that are a person's post: plain, shared to the channel from a thread, a file
# with a comment. Every other subtype (edits, deletions, joins, bot posts...) gets no answer.
_ANSWERED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
# Slack's references in message text: <@U1>, <#C1|name>, <!here>, <url|label>, ...
_REFERENCE = re.compile(r"<([^<>\n]+)>")
_COMMAND_NAMES = frozenset(command.name for command in CATALOGUE)
# Where the bot's mention was, with the spaces and punctuation that go with it: "<@bot>, hi".
_REMOVED = "\x00"
_AROUND_REMOVED = re.compile(r"[ \t]*\x00[,:;]?[ \t]*")


@dataclass(frozen=True)
class BotIdentity:
    """The app's bot user, as auth.test reports it: needed to see mentions and own messages."""

    user_id: str
    bot_id: str = ""
    team_id: str = ""


def unescape(text: str) -> str:
    """Slack's three escapes decoded (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _readable_reference(inner: str) -> str:
    """How a person reads one `<...>` reference: "@name", "#channel", "label (url)"."""
    target, _, label = inner.partition("|")
    if target.startswith(("@U", "@W", "@B")):
        return label if label.startswith("@") else f"@{label or target[1:]}"
    if target.startswith("#C") or target.startswith("#G"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label or f"@{target.removeprefix('!subteam^')}"
    if target in ("!here", "!channel", "!everyone"):
        return f"@{target[1:]}"
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return label or target[1:]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if label and label != target:
        return f"{label} ({target})"
    return target


def readable_text(text: str, bot_user_id: str | None = None) -> str:
    """Message text as a person reads it, with the bot's own mentions removed.

    "<@BOT> what is <https://x.org|this>?" → "what is this (https://x.org)?".
    """
    pieces: list[str] = []
    cursor = 0
    text = text.replace(_REMOVED, "")
    for match in _REFERENCE.finditer(text):
        pieces.append(unescape(text[cursor : match.start()]))
        inner = match.group(1)
        if bot_user_id is not None and inner.partition("|")[0] == f"@{bot_user_id}":
            pieces.append(_REMOVED)
        else:
            pieces.append(_readable_reference(unescape(inner)))
        cursor = match.end()
    pieces.append(unescape(text[cursor:]))
    return _AROUND_REMOVED.sub(" ", "".join(pieces)).strip()


def ts_datetime(ts: str) -> datetime:
    """A message ts ("1790000100.000200") as the UTC time it names, to the microsecond."""
    seconds, _, fraction = ts.partition(".")
    moment = datetime.fromtimestamp(int(seconds), UTC)
    return moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))


def _kind(event: Mapping[str, Any]) -> PlaceKind:
    """A DM is private; in channels the bot always answers inside a thread."""
    if event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D"):
        return PlaceKind.PRIVATE
    return PlaceKind.THREAD


def _mentions(text: str, user_id: str) -> bool:
    return any(
        match.group(1).partition("|")[0] == f"@{user_id}" for match in _REFERENCE.finditer(text)
    )


def event_key(message: IncomingMessage) -> str:
    """The dedup key of a post: the same for its `app_mention` and `message` events and retries."""
    conversation = message.conversation
    return f"post:{conversation.space or '-'}:{conversation.channel}:{message.id}"


def thread_key(conversation: ConversationRef) -> str:
    """The store key remembering that the bot answers in a channel thread."""
    return f"thread:{conversation.key}"


def response_url_of(message: IncomingMessage) -> str | None:
    """Where a slash command's answer goes (its response_url); None for ordinary messages."""
    url = message.raw.get("response_url") if message.raw.get("command") else None
    return None if url is None else str(url)


def _as_command(text: str) -> str:
    """A message that is exactly a command word ("help", "lang fr") as that command.

    Slack's composer takes "/lang" for a slash command of its own, so in a DM (or after
    the bot's mention) the bare words do what `/bloombridge <words>` does.
    """
    words = text.split(maxsplit=1)
    if not words or words[0].lower() not in _COMMAND_NAMES:
        return text
    arguments = words[1] if len(words) > 1 else ""
    if not arguments or (words[0].lower() == "lang" and len(arguments.split()) == 1):
        return command_text(words[0].lower(), arguments)
    return text


def _bot_user_id(envelope: Mapping[str, Any], bot: BotIdentity | None) -> str:
    for authorization in envelope.get("authorizations") or ():
        if authorization.get("is_bot") and authorization.get("user_id"):
            return str(authorization["user_id"])
    return bot.user_id if bot is not None else ""


def to_incoming_message(
    envelope: Mapping[str, Any],
    bot: BotIdentity | None = None,
    *,
    locale_hint: str | None = None,
) -> IncomingMessage | None:
    """The post an Events API envelope carries, normalized; None when there is nothing to answer.

    `app_mention` events and `message` events (DMs, channels, threads) count; edits,
    deletions, joins, other bots' and the app's own posts give None. In a DM every message
    is addressed to the bot; in a channel only a post mentioning it — a thread reply without
    a mention comes back with `addressed_to_bot=False` (the adapter answers it when the bot
    is already part of that thread). Each thread is its own conversation: a post in a
    channel opens the thread the bot answers in.
    """
    if envelope.get("type") != "event_callback":
        return None
    event = envelope.get("event") or {}
    event_type = event.get("type")
    if event_type not in ("app_mention", "message") or event.get("subtype") not in (
        _ANSWERED_SUBTYPES
    ):
        return None
    own_user = _bot_user_id(envelope, bot)
    author = event.get("user")
    if not author or event.get("bot_id") or author == own_user or "ts" not in event:
        return None
    raw_text = str(event.get("text") or "")
    kind = _kind(event)
    ts = str(event["ts"])
    thread_ts = event.get("thread_ts")
    if kind is PlaceKind.PRIVATE:
        # A DM reads as one conversation; a thread inside it is a conversation of its own.
        thread = None if thread_ts is None else str(thread_ts)
        addressed = True
    else:
        thread = str(thread_ts or ts)
        addressed = event_type == "app_mention" or (
            bool(own_user) and _mentions(raw_text, own_user)
        )
    text = readable_text(raw_text, own_user or None)
    team = event.get("team") or envelope.get("team_id") or (bot.team_id if bot else None)
    return IncomingMessage(
        id=ts,
        conversation=ConversationRef(
            PLATFORM, None if team is None else str(team), str(event["channel"]), thread, kind
        ),
        sender=Sender(id=str(author), locale_hint=locale_hint),
        text=_as_command(text) if addressed else text,
        sent_at=ts_datetime(ts),
        addressed_to_bot=addressed,
        reply_to=None if thread_ts is None else str(thread_ts),
        raw=envelope,
    )


def from_slash_command(
    payload: Mapping[str, Any], *, now: datetime, locale_hint: str | None = None
) -> IncomingMessage:
    """A `/bloombridge help|reset|forget|lang xx` invocation as the command message it stands for.

    The words after the slash command are the bot command: "/bloombridge lang fr" is
    "/lang fr". A DM's command belongs to the DM's conversation; in a channel it belongs to
    the channel's top level (slash commands carry no thread).
    """
    words = str(payload.get("text") or "").split(maxsplit=1)
    name = words[0] if words else "help"
    arguments = words[1] if len(words) > 1 else ""
    channel = str(payload["channel_id"])
    private = channel.startswith("D") or payload.get("channel_name") == "directmessage"
    return IncomingMessage(
        id=str(payload.get("trigger_id") or now.timestamp()),
        conversation=ConversationRef(
            PLATFORM,
            str(payload.get("team_id") or "") or None,
            channel,
            None,
            PlaceKind.PRIVATE if private else PlaceKind.GROUP,
        ),
        sender=Sender(
            id=str(payload["user_id"]),
            display_name=str(payload.get("user_name") or ""),
            locale_hint=locale_hint,
        ),
        text=command_text(name, arguments),
        sent_at=now,
        addressed_to_bot=True,
        raw=payload,
    )


def to_feedback(payload: Mapping[str, Any]) -> FeedbackVote | None:
    """The 👍/👎 press a `block_actions` payload carries, or None for any other action."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or ()
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    channel = (payload.get("channel") or {}).get("id") or container.get("channel_id")
    if not actions or channel is None:
        return None
    action = actions[0]
    decoded = decode_vote(str(action.get("value") or ""))
    if decoded is None:
        return None
    reply_id, value = decoded
    user = payload.get("user") or {}
    thread = message.get("thread_ts") or container.get("thread_ts")
    kind = PlaceKind.PRIVATE if str(channel).startswith("D") else PlaceKind.THREAD
    team = (payload.get("team") or {}).get("id") or user.get("team_id")
    return FeedbackVote(
        event_id=f"{channel}:{message.get('ts') or container.get('message_ts')}:{action.get('action_ts')}",
        conversation=ConversationRef(
            PLATFORM,
            None if team is None else str(team),
            str(channel),
            None if thread is None else str(thread),
            kind,
        ),
        reply_id=reply_id,
        sender_id=str(user.get("id", "")),
        value=value,
        locale_hint=user.get("locale"),
    )
