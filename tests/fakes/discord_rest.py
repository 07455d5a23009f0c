"""What the fake Discord REST API records and answers: calls, messages, errors, pings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

MAX_CONTENT = 2000
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")

Answer = tuple[int, Any, frozenset[str]]  # status, JSON result, whom it would ping


@dataclass(frozen=True)
class ApiError:
    """An error answer: HTTP status and body (Discord's `{"message", "code"}` or a 429's)."""

    status: int
    body: Mapping[str, Any]

    @classmethod
    def rate_limited(cls, retry_after: float, *, is_global: bool = False) -> ApiError:
        return cls(
            429,
            {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": is_global,
            },
        )

    @classmethod
    def missing_permissions(cls) -> ApiError:
        return cls(403, {"message": "Missing Permissions", "code": 50013})


@dataclass(frozen=True)
class ApiCall:
    """One REST request: which route, its JSON body and query, when, and how it was answered."""

    route: str
    params: Mapping[str, Any]
    at: float
    path: str
    status: int = 200
    result: Any = None
    pings: frozenset[str] = frozenset()  # whom the content would notify ("everyone", ids)


@dataclass
class ChannelMessage:
    """A message in a channel as users see it now."""

    channel_id: str
    message_id: str
    content: str
    author_id: str
    components: list[dict[str, Any]]
    reference: str | None = None
    interaction_token: str | None = None
    ephemeral: bool = False
    deleted: bool = False
    edits: int = 0


@dataclass
class Failure:
    route: str
    error: ApiError
    when: Callable[[Mapping[str, Any]], bool]


def pings(
    content: str, allowed: Mapping[str, Any] | None, replied_user: str | None
) -> frozenset[str]:
    """Who a message notifies: Discord parses every mention unless `allowed_mentions` limits it."""
    if allowed is None:
        parse = {"everyone", "users", "roles"}
        users: set[str] = set()
        roles: set[str] = set()
        reply_ping = True
    else:
        parse = set(allowed.get("parse") or [])
        users = {str(user) for user in allowed.get("users") or []}
        roles = {str(role) for role in allowed.get("roles") or []}
        reply_ping = bool(allowed.get("replied_user", False))
    found: set[str] = set()
    if "everyone" in parse and ("@everyone" in content or "@here" in content):
        found.add("everyone")
    for user in _USER.findall(content):
        if "users" in parse or user in users:
            found.add(user)
    for role in _ROLE.findall(content):
        if "roles" in parse or role in roles:
            found.add(f"role:{role}")
    if replied_user is not None and reply_ping:
        found.add(replied_user)
    return frozenset(found)


def check_content(params: Mapping[str, Any], *, creating: bool) -> None:
    """Discord's checks of a message body: at most 2,000 characters, never empty when new."""
    content = params.get("content")
    if content is not None and len(str(content)) > MAX_CONTENT:
        raise Refused(
            ApiError(
                400,
                {
                    "message": "Invalid Form Body",
                    "code": 50035,
                    "errors": {
                        "content": {
                            "_errors": [
                                {
                                    "code": "BASE_TYPE_MAX_LENGTH",
                                    "message": "Must be 2000 or fewer in length.",
                                }
                            ]
                        }
                    },
                },
            )
        )
    if creating and not str(content or "").strip() and not params.get("components"):
        raise Refused(ApiError(400, {"message": "Cannot send an empty message", "code": 50006}))


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    # Discord's exact content type: discord.py parses JSON only for "application/json".
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


class Refused(Exception):
    """A request the fake answers with an error."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error.body.get("message")))
        self.error = error
