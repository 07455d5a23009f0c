"""Routing one discord.py client: REST base and gateway replaced, nothing else touched."""

from __future__ import annotations

import asyncio

from adapters.discord.routing import DiscordEndpoints, RoutedHTTPClient

DISCORD_GATEWAY = "wss://gateway.discord.gg/?v=10&encoding=json&compress=zlib-stream"


async def test_only_discords_default_gateway_is_replaced_keeping_its_query() -> None:
    loop = asyncio.get_running_loop()
    routed = RoutedHTTPClient(
        loop, endpoints=DiscordEndpoints(gateway_url="ws://gateway.internal:9000/gw")
    )
    assert routed.gateway_for(DISCORD_GATEWAY) == (
        "ws://gateway.internal:9000/gw?v=10&encoding=json&compress=zlib-stream"
    )
    resume = "wss://gateway-us-east1-b.discord.gg/?v=10&encoding=json&compress=zlib-stream"
    assert routed.gateway_for(resume) == resume
    voice = "wss://us-east123.discord.media/?v=8"
    assert routed.gateway_for(voice) == voice
    unrouted = RoutedHTTPClient(loop, endpoints=DiscordEndpoints())
    assert unrouted.gateway_for(DISCORD_GATEWAY) == DISCORD_GATEWAY
