"""Slack users' locales ("fr-FR", from users.info), the language hint for their messages."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.sink import call_slack
from core.errors import PlatformError

logger = logging.getLogger(__name__)

_MAX_USERS = 10_000


class UserLocales:
    """Looks a user's locale up once per process (users.info with include_locale)."""

    def __init__(self, client: Callable[[], AsyncWebClient]) -> None:
        self._client = client
        self._known: dict[str, str | None] = {}

    async def of(self, user_id: str) -> str | None:
        """The user's locale, or None when Slack does not say (or could not be asked)."""
        if not user_id:
            return None
        if user_id in self._known:
            return self._known[user_id]
        client = self._client()
        try:
            response = await call_slack(
                "users.info", lambda: client.users_info(user=user_id, include_locale=True)
            )
        except PlatformError as exc:
            logger.debug("no locale for a user: %s", exc)
            return None  # not remembered: asked again next time
        user = response.get("user")
        locale = user.get("locale") if isinstance(user, dict) else None
        if len(self._known) >= _MAX_USERS:
            self._known.clear()
        self._known[user_id] = None if locale is None else str(locale)
        return self._known[user_id]
