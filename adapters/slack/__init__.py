"""Slack: Bolt app in Socket Mode or over HTTP, envelope normalization, native streaming."""
