"""`bloombridge lang detect`: one BLOOM code per input line, as the bot would detect it."""

from __future__ import annotations

import io

from bots.cli import build_parser
from bots.lang_tool import detect_lines
from bots.settings import Settings


async def test_lang_detect_prints_a_code_per_line() -> None:
    lines = [
        "Bonjour, je voudrais réserver une table pour ce soir.\n",
        "ok\n",
        "👍\n",
        "请问明天的会议几点开始？\n",
        "Ndax mën nga ma dimbali ma bind bataaxal ci boroom kër gi?\n",
        "\n",
    ]
    out = io.StringIO()
    assert await detect_lines(Settings(), lines, out) == 0
    # Wolof, which no library knows, is named by the shipped n-gram model.
    assert out.getvalue().splitlines() == ["fr", "und", "und", "zh", "wo", "und"]


def test_lang_detect_is_a_cli_subcommand() -> None:
    args = build_parser().parse_args(["lang", "detect"])
    assert callable(args.handler)
