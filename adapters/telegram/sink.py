"""The Bot API calls that show one reply in one Telegram chat or forum topic."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyParameters,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from adapters.feedback import encode_vote, is_rated
from adapters.markdown import MarkdownRenderer, RenderedMessage
from adapters.pacer import RateLimited
from core.errors import PlatformError
from core.messages import Reply

logger = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_CALLBACK_DATA_BYTES = 64


def _is_not_modified(error: BadRequest) -> bool:
    return "message is not modified" in error.message.lower()


def _is_formatting_error(error: BadRequest) -> bool:
    # "can't parse entities: ...", "ENTITY_BOUNDS_INVALID", "entity beginning ...".
    text = error.message.lower()
    return "entit" in text or "parse" in text


def _retry_after_seconds(error: RetryAfter) -> float:
    # PTB 22 warns that the int form will become a timedelta; both forms are handled here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def translate_error(error: TelegramError, action: str) -> PlatformError:
    """The bloombridge error for a failed Bot API call (the token never appears in it)."""
    if isinstance(error, RetryAfter):
        return RateLimited(f"{action}: {error.message}", retry_after=_retry_after_seconds(error))
    return PlatformError(f"{action} failed: {error.message}")


def feedback_keyboard(reply: Reply | None) -> InlineKeyboardMarkup | None:
    """👍/👎 buttons for a finished model reply that has an id; None for anything else."""
    if reply is None or not is_rated(reply):
        return None
    up, down = encode_vote(reply.id, 1), encode_vote(reply.id, -1)
    if max(len(up.encode()), len(down.encode())) > _MAX_CALLBACK_DATA_BYTES:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("👍", callback_data=up),
                InlineKeyboardButton("👎", callback_data=down),
            ]
        ]
    )


class TelegramSink:
    """One reply's messages in one chat (and topic), implementing `adapters.delivery.MessageSink`.

    A message Telegram rejects for its formatting is sent again as plain text; "message is
    not modified" counts as success. `drafts_missing` turns True when the server does not
    know sendMessageDraft at all, and `on_drafts_missing` is called so the adapter can stop
    trying it.
    """

    def __init__(
        self,
        bot: Bot,
        renderer: MarkdownRenderer,
        *,
        chat_id: int,
        thread_id: int | None,
        reply_to: int | None,
        on_drafts_missing: Callable[[], None] | None = None,
    ) -> None:
        self._bot = bot
        self._renderer = renderer
        self._chat_id = chat_id
        self._thread_id = thread_id
        self._reply_to = reply_to
        # Draft ids must be non-zero; a fresh base per reply keeps drafts of replies apart.
        self._draft_base = secrets.randbelow(2**30) * 64 + 1
        self.drafts_missing = False
        self._on_drafts_missing = on_drafts_missing

    async def typing(self) -> None:
        """Show "typing…" in the chat (Telegram clears it after five seconds or a message)."""
        await self._call(
            "sendChatAction",
            lambda: self._bot.send_chat_action(
                self._chat_id, ChatAction.TYPING, message_thread_id=self._thread_id
            ),
        )

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        reply_to, self._reply_to = self._reply_to, None  # only the first message replies

        async def send(shown: RenderedMessage) -> str:
            sent = await self._bot.send_message(
                self._chat_id,
                shown.text,
                entities=_entities(shown),
                message_thread_id=self._thread_id,
                reply_parameters=(
                    ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if reply_to is not None
                    else None
                ),
                reply_markup=feedback_keyboard(final),
            )
            return str(sent.message_id)

        return await self._formatted("sendMessage", message, send)

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        async def edit(shown: RenderedMessage) -> None:
            try:
                await self._bot.edit_message_text(
                    shown.text,
                    chat_id=self._chat_id,
                    message_id=int(message_id),
                    entities=_entities(shown),
                    reply_markup=feedback_keyboard(final),
                )
            except BadRequest as exc:
                if not _is_not_modified(exc):
                    raise

        await self._formatted("editMessageText", message, edit)

    async def remove(self, message_id: str) -> None:
        await self._call(
            "deleteMessage", lambda: self._bot.delete_message(self._chat_id, int(message_id))
        )

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        if self.drafts_missing:
            return False
        draft_id = self._draft_base + index

        async def draft(shown: RenderedMessage) -> bool:
            return await self._bot.send_message_draft(
                self._chat_id,
                draft_id,
                shown.text,
                message_thread_id=self._thread_id,
                entities=_entities(shown),
            )

        try:
            return await self._formatted("sendMessageDraft", message, draft)
        except RateLimited:
            raise
        except PlatformError as exc:
            if isinstance(exc.__cause__, InvalidToken):
                # 404: this Bot API server has no sendMessageDraft (older or self-hosted).
                self.drafts_missing = True
                if self._on_drafts_missing is not None:
                    self._on_drafts_missing()
            logger.info("drafts unavailable in this chat, editing a message instead: %s", exc)
            return False

    async def _formatted(
        self,
        action: str,
        message: RenderedMessage,
        call: Callable[[RenderedMessage], Awaitable[T]],
    ) -> T:
        """Make a call with the formatted message, and once more in plain text if it is refused."""
        try:
            return await call(message)
        except BadRequest as exc:
            if message.plain or not _is_formatting_error(exc):
                raise translate_error(exc, action) from exc
            logger.warning(
                "%s refused the formatting (%s); sending plain text", action, exc.message
            )
        except TelegramError as exc:
            raise translate_error(exc, action) from exc
        plain = self._renderer.plain(message.source)
        return await self._call(action, lambda: call(plain))

    async def _call(self, action: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except TelegramError as exc:
            raise translate_error(exc, action) from exc


def _entities(message: RenderedMessage) -> list[MessageEntity] | None:
    if not message.entities:
        return None
    return [MessageEntity.de_json(dict(entity), None) for entity in message.entities]
