"""Plain configuration values the core is built with (read from the environment only in `bots`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.generation.base import GenerationParams
from core.generation.read_ahead import DEFAULT_LIMIT as DEFAULT_READ_AHEAD


@dataclass(frozen=True)
class DialogConfig:
    """How the dialog manager treats conversations."""

    generation: GenerationParams = field(default_factory=GenerationParams)
    history_turns: int = 20  # turns kept per conversation
    history_ttl_seconds: int = 7 * 24 * 3600  # a silent conversation is forgotten after this
    max_message_chars: int = 16_000  # longer messages are refused before any tokenizing
    dedup_ttl_seconds: int = 24 * 3600  # how long a platform event id is remembered
    max_resumes: int = 2  # guard-requested restarts of one reply before it is cut
    # Tokens read ahead while the guards judge; they are judged together (1: token by token).
    read_ahead_tokens: int = DEFAULT_READ_AHEAD
    # Queue workers: when every replica is busy, raise ReplyDeferred (the message waits in
    # its stream) instead of answering with the "overloaded" notice.
    defer_when_busy: bool = False
