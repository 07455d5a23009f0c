"""What the deploy files may refer to: real settings, real CLI commands, no committed secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from bots.cli import build_parser
from bots.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PREFIX = "BLOOMBRIDGE_"

# Shapes of real credentials: Telegram bot tokens, Slack tokens, Discord bot tokens, URL passwords.
SECRET_SHAPES = (
    re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),
    re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bxapp-\d-[A-Za-z0-9-]{10,}"),
    re.compile(r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}\b"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),
)


def setting_names() -> set[str]:
    """Every environment variable bloombridge reads (platform groups: PREFIX_GROUP_NAME)."""
    names = set()
    for name, field in Settings.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            names |= {f"{PREFIX}{name}_{inner}".upper() for inner in group.model_fields}
        else:
            names.add(PREFIX + name.upper())
    return names


def unknown_settings(names: Iterable[str]) -> list[str]:
    """The BLOOMBRIDGE_* names among `names` that are not settings."""
    known = setting_names()
    return sorted({name for name in names if name.startswith(PREFIX) and name not in known})


def command_exists(argv: Sequence[str]) -> bool:
    """Whether `bloombridge ARGV` parses as a command (without running it)."""
    try:
        build_parser().parse_args(list(argv))
    except SystemExit:
        return False
    return True


def secrets_in(text: str) -> list[str]:
    """Substrings of `text` that look like a real credential."""
    return [match.group(0) for shape in SECRET_SHAPES for match in shape.finditer(text)]
