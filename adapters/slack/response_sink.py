"""Answers to `/bloombridge` slash commands, sent through the command's response_url.

A response_url works wherever the command was typed (also in DMs between two people,
where the bot itself cannot post) and shows the answer only to the person who typed it.
"""

from __future__ import annotations

from collections.abc import Awaitable

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse

from adapters.markdown import RenderedMessage
from adapters.pacer import RateLimited
from adapters.slack.render import message_fields
from core.errors import PlatformError
from core.messages import Reply

_DEFAULT_RETRY_AFTER = 1.0


class ResponseUrlSink:
    """`adapters.delivery.MessageSink` over one response_url; messages are ephemeral."""

    def __init__(self, response_url: str) -> None:
        self._client = AsyncWebhookClient(response_url)

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        await self._send(message, final, replace=False)
        return "response"  # Slack names ephemeral answers by their response_url only

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        await self._send(message, final, replace=True)

    async def remove(self, message_id: str) -> None:
        self._check(await self._call(self._client.send(delete_original=True)))

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        return False

    async def _send(self, message: RenderedMessage, final: Reply | None, *, replace: bool) -> None:
        fields = message_fields(message, final)
        sending = self._client.send(
            text=fields["text"],
            blocks=fields["blocks"],
            response_type="ephemeral",
            replace_original=replace,
        )
        self._check(await self._call(sending))

    @staticmethod
    async def _call(sending: Awaitable[WebhookResponse]) -> WebhookResponse:
        try:
            return await sending
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlatformError(
                f"answering the slash command failed: {type(exc).__name__}"
            ) from exc

    @staticmethod
    def _check(response: WebhookResponse) -> None:
        status = response.status_code
        if status == 429:
            retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
            seconds = float(str(retry_after)) if retry_after else _DEFAULT_RETRY_AFTER
            raise RateLimited("response_url was rate limited", retry_after=seconds)
        if status >= 400:
            raise PlatformError(f"answering the slash command failed: HTTP {status}")
