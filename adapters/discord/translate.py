"""Discord gateway payloads (MESSAGE_CREATE, slash commands) to core messages: pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.feedback import FeedbackVote, decode_vote
from core.commands import command_text
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender

PLATFORM = "discord"
ASK_COMMAND = "ask"  # the slash command that carries a question for the model

# Message types a person writes: DEFAULT and REPLY. Joins, pins, boosts and the like are not.
_USER_MESSAGE_TYPES = frozenset({0, 19})
# What follows a mention and goes with it: "<@bot>, hi" → "hi".
_AFTER_MENTION = re.compile(r"^[,:;]?[ \t]*")
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(frozen=True)
class BotIdentity:
    """The bot as Discord knows it: its user id and, in one guild, its managed role (if any)."""

    user_id: str
    role_id: str | None = None


@dataclass(frozen=True)
class ChannelContext:
    """What the adapter knows of the channel a message came from (MESSAGE_CREATE omits it).

    `thread_parent_id` is the parent channel when the channel is a thread; `listens_to_all`
    is True where the operator asked for every message to be answered (this needs the
    privileged message-content intent).
    """

    thread_parent_id: str | None = None
    listens_to_all: bool = False


@dataclass(frozen=True)
class InteractionFacts:
    """An interaction as discord.py parsed it: which one, who, where, and the user's locale.

    `locale` is the user's client language ("pt-BR"), which Discord sends with every
    interaction (messages carry none).
    """

    interaction_id: str
    user_id: str
    user_name: str
    locale: str | None
    guild_id: str | None
    channel_id: str
    thread_parent_id: str | None
    created_at: datetime
    # What answers the interaction later, from any process: the application's id and the
    # interaction's token (valid for fifteen minutes), the address of its webhook.
    application_id: str = ""
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class CommandCall:
    """A slash command: the interaction, the command's name and its text option (if any)."""

    interaction: InteractionFacts
    name: str
    option: str | None


def conversation_for(
    guild_id: str | None, channel_id: str, thread_parent_id: str | None
) -> ConversationRef:
    """A guild channel, a thread in it (its own conversation), or a DM channel."""
    if guild_id is None:
        return ConversationRef(PLATFORM, None, channel_id, kind=PlaceKind.PRIVATE)
    if thread_parent_id is not None:
        return ConversationRef(
            PLATFORM, guild_id, thread_parent_id, channel_id, kind=PlaceKind.THREAD
        )
    return ConversationRef(PLATFORM, guild_id, channel_id, kind=PlaceKind.GROUP)


def message_place(payload: Mapping[str, Any]) -> tuple[str | None, str]:
    """(guild id or None for a DM, channel id) of a MESSAGE_CREATE payload: what the adapter
    must look up (the bot's role there, whether the channel is a thread) before translating."""
    guild_id = payload.get("guild_id")
    return (None if guild_id is None else str(guild_id)), str(payload["channel_id"])


def _display_name(author: Mapping[str, Any], member: Mapping[str, Any] | None) -> str:
    nick = (member or {}).get("nick")
    return str(nick or author.get("global_name") or author.get("username") or "")


def _strip_bot_mentions(content: str, bot: BotIdentity) -> str:
    """`content` without the mentions of the bot, joined tidily where they were."""
    pattern = rf"<@!?{re.escape(bot.user_id)}>"
    if bot.role_id is not None:
        pattern += rf"|<@&{re.escape(bot.role_id)}>"
    pieces = re.split(pattern, content)
    tidy = [pieces[0].rstrip(" \t")]
    tidy += [_AFTER_MENTION.sub("", piece).rstrip(" \t") for piece in pieces[1:-1]]
    tidy += [_AFTER_MENTION.sub("", pieces[-1])] if len(pieces) > 1 else []
    return " ".join(piece for piece in tidy if piece).strip()


def _readable_user_mentions(content: str, mentions: list[Mapping[str, Any]]) -> str:
    """Other people's mentions as "@name", so the model reads names instead of ids."""
    names = {
        str(user["id"]): _display_name(user, user.get("member"))
        for user in mentions
        if user.get("id") is not None
    }

    def readable(match: re.Match[str]) -> str:
        name = names.get(match.group(1))
        return f"@{name}" if name else match.group(0)

    return _USER_MENTION.sub(readable, content)


def is_reply_to_bot(payload: Mapping[str, Any], bot: BotIdentity) -> bool:
    """Whether the message replies to one of the bot's messages."""
    referenced = payload.get("referenced_message")
    if not isinstance(referenced, Mapping):
        return False
    return str(referenced.get("author", {}).get("id")) == bot.user_id


def to_incoming_message(
    payload: Mapping[str, Any],
    bot: BotIdentity,
    context: ChannelContext = ChannelContext(),
) -> IncomingMessage | None:
    """The message a MESSAGE_CREATE payload (`d`) carries, normalized; None if nobody's to answer.

    Messages of bots (this one included), webhooks and the system give None. A guild message
    is addressed to the bot when it mentions the bot's user or managed role (`@everyone` and
    `@here` are not mentions of the bot), replies to one of its messages, or comes from a
    channel that listens to all (announcements to `@everyone` excepted). DMs are addressed.
    """
    author = payload.get("author") or {}
    if (
        author.get("bot")
        or author.get("system")
        or payload.get("webhook_id") is not None
        or int(payload.get("type", 0)) not in _USER_MESSAGE_TYPES
        or str(author.get("id")) == bot.user_id
    ):
        return None
    guild_id = payload.get("guild_id")
    member = payload.get("member")
    content = str(payload.get("content") or "")
    mentioned_users = [user for user in payload.get("mentions") or [] if isinstance(user, Mapping)]
    mentions_bot = any(str(user.get("id")) == bot.user_id for user in mentioned_users) and bool(
        re.search(rf"<@!?{re.escape(bot.user_id)}>", content)
    )
    mentions_role = bot.role_id is not None and bot.role_id in {
        str(role) for role in payload.get("mention_roles") or []
    }
    replies_to_bot = is_reply_to_bot(payload, bot)
    announcement = bool(payload.get("mention_everyone")) and not (mentions_bot or mentions_role)
    addressed = (
        guild_id is None
        or mentions_bot
        or mentions_role
        or replies_to_bot
        or (context.listens_to_all and not announcement)
    )
    text = _strip_bot_mentions(content, bot) if (mentions_bot or mentions_role) else content
    text = _readable_user_mentions(text, mentioned_users).strip()
    reference = payload.get("message_reference") or {}
    replied = reference.get("message_id") if int(payload.get("type", 0)) == 19 else None
    return IncomingMessage(
        id=str(payload["id"]),
        conversation=conversation_for(
            None if guild_id is None else str(guild_id),
            str(payload["channel_id"]),
            context.thread_parent_id,
        ),
        sender=Sender(id=str(author["id"]), display_name=_display_name(author, member)),
        text=text,
        sent_at=datetime.fromisoformat(str(payload["timestamp"])).astimezone(UTC),
        addressed_to_bot=addressed,
        reply_to=None if replied is None else str(replied),
        raw=payload,
    )


def _conversation_of(facts: InteractionFacts) -> ConversationRef:
    return conversation_for(facts.guild_id, facts.channel_id, facts.thread_parent_id)


def command_message(call: CommandCall) -> IncomingMessage:
    """A slash command as the message the core understands: "/ask x" → "x", others "/name arg".

    The user's client locale becomes the sender's language hint.
    """
    facts = call.interaction
    option = (call.option or "").strip()
    text = option if call.name == ASK_COMMAND else command_text(call.name, option)
    return IncomingMessage(
        id=f"interaction-{facts.interaction_id}",
        conversation=_conversation_of(facts),
        sender=Sender(id=facts.user_id, display_name=facts.user_name, locale_hint=facts.locale),
        text=text,
        sent_at=facts.created_at.astimezone(UTC),
        addressed_to_bot=True,
        raw={"interaction": {"application_id": facts.application_id, "token": facts.token}},
    )


def interaction_webhook_of(message: IncomingMessage) -> tuple[int, str] | None:
    """(application id, token) of the slash command a message came from; None for messages."""
    found = message.raw.get("interaction")
    if not isinstance(found, Mapping) or not found.get("application_id") or not found.get("token"):
        return None
    return int(found["application_id"]), str(found["token"])


def to_feedback(facts: InteractionFacts, custom_id: str) -> FeedbackVote | None:
    """The vote a button press carries, or None when the button is not a feedback button."""
    decoded = decode_vote(custom_id)
    if decoded is None:
        return None
    reply_id, value = decoded
    return FeedbackVote(
        event_id=facts.interaction_id,
        conversation=_conversation_of(facts),
        reply_id=reply_id,
        sender_id=facts.user_id,
        value=value,
        locale_hint=facts.locale,
    )
