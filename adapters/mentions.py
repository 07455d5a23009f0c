"""Neutralising mentions in model output, so a reply can never ping a user, a role or everyone.

The model may write `@everyone`, `@here`, `@channel`, `@username`, Slack's `<!channel>`,
`<!here>`, `<@U123>`, `<!subteam^S1>` or Discord's `<@123>`, `<@&456>` (a prompt injection
can ask it to). Every platform delivery runs replies through `neutralize_mentions` before
they are laid out: a WORD JOINER (U+2060, invisible, not a space) goes after the `@` or `<`,
which no platform reads as a mention any more while readers see the same text. Code spans
and fenced code blocks are left untouched, so code stays exact for copying; no platform
turns text inside code into a mention.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"

# "@name" not preceded by a word character (an e-mail address keeps its "@").
_AT_MENTION = re.compile(r"(?<![\w@])@(?=[\w])")
# Slack special and user mentions, Discord user, role and channel mentions: "<!…>", "<@…>", "<#…>".
_ANGLE_MENTION = re.compile(r"<(?=[!@#][\w^&!|-])")
# Fenced code blocks (closed or still open at the end) and inline code spans.
_CODE = re.compile(
    r"(?P<fence>^[ ]{0,3}(?P<marker>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=marker)[ \t]*$|\Z))"
    r"|(?P<span>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))",
    re.MULTILINE | re.DOTALL,
)


def _neutralize_prose(text: str) -> str:
    text = _ANGLE_MENTION.sub("<" + WORD_JOINER, text)
    return _AT_MENTION.sub("@" + WORD_JOINER, text)


def neutralize_mentions(markdown: str) -> str:
    """`markdown` with every mention outside code made inert; idempotent."""
    if "@" not in markdown and "<" not in markdown:
        return markdown
    pieces: list[str] = []
    cursor = 0
    for code in _CODE.finditer(markdown):
        pieces.append(_neutralize_prose(markdown[cursor : code.start()]))
        pieces.append(code.group(0))
        cursor = code.end()
    pieces.append(_neutralize_prose(markdown[cursor:]))
    return "".join(pieces)
