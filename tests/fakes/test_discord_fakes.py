"""The Discord fakes follow Discord's rules: pings, rate-limit answers, gateway handshake."""

from __future__ import annotations

import json

import aiohttp

from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import AUTHENTICATION_FAILED, FakeDiscordGateway
from tests.fakes.discord_model import DiscordWorld
from tests.fakes.discord_rest import ApiError, pings


def test_pings_follow_allowed_mentions() -> None:
    text = "@everyone hi <@42> and <@&7>"
    assert pings(text, None, "99") == {"everyone", "42", "role:7", "99"}
    assert pings(text, {"parse": []}, "99") == frozenset()
    assert pings(text, {"parse": ["users"], "replied_user": True}, "99") == {"42", "99"}
    assert pings(text, {"parse": [], "roles": ["7"]}, None) == {"role:7"}


async def test_a_429_carries_retry_after_and_bucket_headers() -> None:
    world = DiscordWorld()
    async with FakeDiscordAPI(world) as api, aiohttp.ClientSession() as session:
        api.fail("create_message", ApiError.rate_limited(2.5))
        headers = {"Authorization": f"Bot {world.token}"}
        url = f"{api.api_url}/channels/{world.channel_id}/messages"
        async with session.post(url, json={"content": "hi"}, headers=headers) as limited:
            assert limited.status == 429
            assert (await limited.json())["retry_after"] == 2.5
            assert limited.headers["X-RateLimit-Remaining"] == "0"
            assert limited.headers["X-RateLimit-Reset-After"] == "2.500"
            assert limited.headers["X-RateLimit-Bucket"] and limited.headers["Via"]
            assert limited.headers["Content-Type"] == "application/json"
        async with session.post(url, json={"content": "x" * 2001}, headers=headers) as too_long:
            assert too_long.status == 400
            assert (await too_long.json())["code"] == 50035
        async with session.post(url, json={"content": "hi"}, headers=headers) as sent:
            assert sent.status == 200
            assert sent.headers["X-RateLimit-Limit"] == "5"
        async with session.get(f"{api.api_url}/users/@me") as anonymous:
            assert anonymous.status == 401
    assert [m.content for m in api.visible(world.channel_id)] == ["hi"]


async def test_the_gateway_says_hello_and_refuses_a_wrong_token() -> None:
    world = DiscordWorld()
    async with FakeDiscordGateway(world) as gateway, aiohttp.ClientSession() as session:
        async with session.ws_connect(gateway.url + "?v=10&encoding=json") as socket:
            hello = json.loads(await socket.receive_str())
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await socket.send_str(json.dumps({"op": 1, "d": None}))
            assert json.loads(await socket.receive_str()) == {"op": 11}
            await socket.send_str(json.dumps({"op": 2, "d": {"token": "wrong", "intents": 0}}))
            await socket.receive()
            assert socket.close_code == AUTHENTICATION_FAILED
        assert gateway.identifies == []
