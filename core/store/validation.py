"""Argument checks shared by the store implementations, so both reject the same calls."""

from __future__ import annotations


def check_ttl(ttl_seconds: int) -> None:
    """A TTL must be a whole number of seconds, at least one."""
    if ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")


def check_history_limits(max_turns: int, ttl_seconds: int) -> None:
    """History keeps at least one turn for at least one second."""
    if max_turns < 1:
        raise ValueError(f"max_turns must be at least 1, got {max_turns}")
    check_ttl(ttl_seconds)


def check_feedback_value(value: int) -> None:
    """A rating is +1 or -1."""
    if value not in (1, -1):
        raise ValueError(f"a feedback value is 1 or -1, got {value}")
