"""The console adapter: chat with the bot in a terminal, or script it through standard input."""
