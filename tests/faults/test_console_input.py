"""The console bot with hostile input and output: bad bytes, invisible lines, terminal escapes."""

from __future__ import annotations

import io

from adapters.console.adapter import PROMPT, ConsoleAdapter
from adapters.console.sink import BOT_LABEL
from adapters.console.translate import terminal_text
from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.notices import notice
from core.store.memory import MemoryStore
from tests.bots.cli_process import cli_environment, run_cli
from tests.fakes.tgi import FakeTGI, Script

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m"


async def test_piped_bad_bytes_blank_lines_and_escapes_are_handled_by_the_real_command() -> None:
    async with FakeTGI() as tgi:
        tgi.enqueue(
            Script(reply="Got it."),
            Script(reply=f"Plain {ESCAPES}text\x9b and\r more.\x1b[0m"),
        )
        stdin = b"caf\xe9 \xff\xfe latin-1 bytes\n\n\xe2\x80\x8b\n   \nsecond question\n/help\n"
        result = await run_cli("chat", stdin=stdin, env=cli_environment(tgi_urls=tgi.url))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The undecodable line reached the model with replacement characters; blank and invisible
    # lines were skipped without a word, and every later line was answered.
    prompts = [str(r.body["inputs"]) for r in tgi.generation_requests()]
    assert "caf\ufffd \ufffd\ufffd latin-1 bytes" in prompts[0]
    assert len(prompts) == 2
    lines = result.stdout.splitlines()
    assert lines[0] == "Got it."
    assert lines[1] == "Plain ]0;owned[2J[31mtext and more.[0m"
    assert not any(char in result.stdout for char in "\x1b\x07\x9b\r")
    assert result.stdout.endswith(notice("help", "en") + "\n")


async def test_an_invisible_line_on_a_terminal_gets_a_hint_and_is_not_sent() -> None:
    async with FakeTGI() as tgi, TgiGenerator(tgi.url) as generator:
        dialog = DialogManager(generator=generator, store=MemoryStore())
        output = io.StringIO()
        adapter = ConsoleAdapter(
            dialog,
            input_stream=io.StringIO("\n\u200b\u2060\n"),
            output_stream=output,
            interactive=True,
            locale_hint="fr",
        )
        await adapter.run()
    hint = notice("empty_message", "fr")
    assert output.getvalue() == f"{PROMPT}{hint}\n{PROMPT}{hint}\n{PROMPT}"
    assert tgi.generation_requests() == []


async def test_escapes_in_a_streamed_reply_never_reach_the_terminal() -> None:
    async with FakeTGI() as tgi, TgiGenerator(tgi.url) as generator:
        tgi.enqueue(Script(reply=f"Title {ESCAPES}set\x07 done."))
        dialog = DialogManager(generator=generator, store=MemoryStore())
        output = io.StringIO()
        adapter = ConsoleAdapter(
            dialog, input_stream=io.StringIO("hi\n"), output_stream=output, interactive=True
        )
        await adapter.run()
    shown = output.getvalue()
    assert f"{BOT_LABEL}Title ]0;owned[2J[31mset done.\n" in shown
    assert "\x1b" not in shown and "\x07" not in shown


def test_terminal_text_keeps_newlines_tabs_and_every_script() -> None:
    text = "a\tb\nc \u0645\u0631\u062d\u0628\u0627 \u4f60\u597d \U0001f44d"
    assert terminal_text(text) == text
    assert terminal_text("x\u202eevil\u202c y") == "xevil y"
