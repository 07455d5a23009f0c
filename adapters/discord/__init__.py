"""The Discord adapter: discord.py 2.x against the gateway and REST API, replies streamed."""
