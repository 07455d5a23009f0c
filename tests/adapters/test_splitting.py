"""The splitter: limits in the platform's unit, preferred cut points, fences reopened."""

from __future__ import annotations

import random

import pytest

from adapters.capabilities import LengthUnit
from adapters.splitting import split_markdown


def test_short_text_is_one_message_and_blank_text_none() -> None:
    assert split_markdown("Hello.", 100) == ["Hello."]
    assert split_markdown("\n \n", 100) == []


def test_paragraph_breaks_are_preferred_over_line_breaks_and_spaces() -> None:
    text = "First paragraph, fairly long.\nSecond line of it.\n\nThird part after a break."
    parts = split_markdown(text, 60)
    assert parts == [
        "First paragraph, fairly long.\nSecond line of it.",
        "Third part after a break.",
    ]


def test_a_break_too_early_is_not_taken_when_a_line_break_fills_the_message() -> None:
    text = "Hi.\n\n" + "\n".join(f"line {n} of the body" for n in range(10))
    parts = split_markdown(text, 80)
    assert parts[0].startswith("Hi.\n\nline 0")
    assert all(len(part) <= 80 for part in parts)


def test_words_are_kept_whole_when_a_paragraph_has_no_line_break() -> None:
    text = " ".join(f"word{n}" for n in range(50))
    parts = split_markdown(text, 40)
    assert " ".join(parts).split() == text.split()
    assert all(len(part) <= 40 for part in parts)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    assert split_markdown("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_a_code_fence_cut_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"print({n})" for n in range(12))
    text = f"Intro.\n\n```python\n{code}\n```\n\nOutro."
    parts = split_markdown(text, 60)
    assert len(parts) >= 3
    inside = [part for part in parts if "print(" in part]
    for part in inside:
        assert part.count("```") == 2  # every message opens and closes its code block
        assert part.startswith(("```python\n", "Intro."))
    printed = [line for part in parts for line in part.splitlines() if line.startswith("print(")]
    assert printed == code.splitlines()


def test_tilde_fences_and_longer_markers_close_with_their_own_marker() -> None:
    text = "~~~~\n" + "\n".join(f"row {n}" for n in range(20)) + "\n~~~~"
    parts = split_markdown(text, 40)
    assert all(part.startswith("~~~~\n") and part.endswith("\n~~~~") for part in parts)


def test_utf16_units_count_emoji_twice() -> None:
    text = "😀" * 7
    assert split_markdown(text, 10, LengthUnit.UTF16) == ["😀" * 5, "😀" * 2]
    assert split_markdown(text, 10, LengthUnit.CODEPOINTS) == [text]


@pytest.mark.parametrize("seed", range(40))
def test_random_markdown_always_fits_and_keeps_every_word(seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = ["alpha", "beta", "γάμμα", "дельта", "😀", "🚀rocket", "x" * 30, "**b**", "`c`"]
    blocks = []

    def words(count: int) -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(count))

    for _ in range(rng.randint(3, 30)):
        kind = rng.random()
        if kind < 0.2:
            lines = "\n".join(words(rng.randint(1, 8)) for _ in range(rng.randint(1, 15)))
            blocks.append(f"```{rng.choice(['', 'python', 'js'])}\n{lines}\n```")
        elif kind < 0.4:
            blocks.append("\n".join(f"- {words(rng.randint(1, 6))}" for _ in range(4)))
        else:
            blocks.append(words(rng.randint(1, 60)))
    text = "\n\n".join(blocks)
    limit = rng.choice([64, 100, 257, 1000])
    unit = rng.choice(list(LengthUnit))
    parts = split_markdown(text, limit, unit)
    assert all(unit.measure(part) <= limit for part in parts)
    assert all(part.strip() for part in parts)
    fences = {"```", "```python", "```js"}
    kept = [w for part in parts for w in part.split() if w not in fences]
    expected = [w for w in text.split() if w not in fences]
    # Hard cuts may split a long word in two; joined back, the words are the same.
    assert "".join(kept) == "".join(expected)
