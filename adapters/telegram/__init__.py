"""Telegram: python-telegram-bot adapter, update normalization and Markdown rendering."""
