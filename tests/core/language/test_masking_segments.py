"""Masking of non-prose and sentence segmentation of a growing reply."""

from __future__ import annotations

import random

from core.language.masking import SPAN_PATTERNS, WORD_PATTERNS, mask, may_match_text, prose
from core.language.segments import segments


def test_mask_keeps_positions() -> None:
    text = "Voir https://example.org/a?b=1 et `x = 1` puis 3,14 avec Marie Curie."
    masked = mask(text)
    assert len(masked) == len(text)
    assert masked.index("puis") == text.index("puis")


def test_mask_blanks_code_links_numbers_names_and_quotes() -> None:
    text = (
        "Utilise os.path.join() et user_name, lis https://docs.python.org/3/ ou www.example.com, "
        'écris à dev@example.org, cite "hello my friend" et «good morning», '
        "demande à Barack Obama en 2024 via @alice sur l'API HTTP."
    )
    readable = prose(text)
    for gone in (
        "os.path",
        "user_name",
        "https",
        "www",
        "dev@",
        "hello",
        "good",
        "Barack",
        "2024",
        "alice",
        "API",
        "HTTP",
    ):
        assert gone not in readable
    for kept in ("Utilise", "écris", "cite", "demande", "l'"):
        assert kept in readable


def test_fenced_code_is_blanked_even_while_still_open() -> None:
    assert prose("Voici :\n```python\nprint('the end is near')\n") == "Voici :"
    assert prose("```js\nconst a = 1;\n```\nFin.") == "Fin."


def test_code_lines_without_fences_are_blanked() -> None:
    assert prose("for (int i = 0; i < n; i++) {\n    total += values[i];\n}") == ""


def test_apostrophes_are_not_quotes() -> None:
    assert prose("L'eau est froide, c'est l'hiver.") == "L'eau est froide, c'est l'hiver."


def test_segments_know_which_sentences_are_finished() -> None:
    text = "Bonjour à tous. Il est 3"
    found = segments(mask(text), final=False)
    assert [(text[s.start : s.end], s.complete) for s in found] == [
        ("Bonjour à tous.", True),
        ("Il est", False),
    ]
    assert segments(mask(text), final=True)[-1].complete


def test_a_full_stop_without_following_space_may_still_grow() -> None:
    found = segments("Version 3.", final=False)
    assert not found[-1].complete


def test_unspaced_scripts_end_sentences_at_once() -> None:
    text = "你好。我很好！谢谢"
    found = segments(text, final=False)
    assert [text[s.start : s.end] for s in found] == ["你好。", "我很好！", "谢谢"]
    assert [s.complete for s in found] == [True, True, False]


def sentences_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in segments(mask(text), final=True)]


def test_a_full_stop_inside_closing_quotes_still_ends_the_sentence() -> None:
    text = 'She told us "the ferry leaves at dawn." Il pleuvait sur le port depuis hier soir.'
    assert sentences_of(text) == [
        'She told us "the ferry leaves at dawn.',
        "Il pleuvait sur le port depuis hier soir.",
    ]
    assert "ferry" not in prose(text)
    # The closing mark is blank: the sentence ends at its terminator.
    assert sentences_of("Il a crié « on arrive ! » Then everyone went home.") == [
        "Il a crié « on arrive !",
        "Then everyone went home.",
    ]


def test_a_full_stop_after_a_number_still_ends_the_sentence() -> None:
    text = "Nous avons compté les chaises : il y en avait 37. The rest were in the hall."
    assert sentences_of(text) == [
        "Nous avons compté les chaises : il y en avait 37.",
        "The rest were in the hall.",
    ]
    assert "37" not in prose(text)


def test_a_link_ending_a_sentence_keeps_its_full_stop() -> None:
    text = "Tout est sur https://example.org/docs. The next step is simple."
    assert sentences_of(text) == [
        "Tout est sur https://example.org/docs.",
        "The next step is simple.",
    ]


def test_numbers_and_quotations_without_a_terminator_stay_blank() -> None:
    assert mask("Le prix est 3.14 euros") == "Le prix est      euros"
    assert mask('Il dit "bonjour, mon ami" puis part') == "Il dit                    puis part"
    assert mask("`fin.`") == "      "


def test_a_pattern_is_skipped_only_on_text_it_cannot_match() -> None:
    rng = random.Random(12)
    alphabet = "aZbQ_.:/\\()-'’\"“«「 \n5@#wW"
    words: tuple[str, ...] = (
        "www.",
        "http://",
        "snake_case",
        "a.b",
        "camelCase",
        "--x",
        "NASA",
        "ok Jean",
    )
    words += ("```", "~~~", "`x`", "<a|b>", "u@x.org", "#tag", "4,2")
    tested = dict.fromkeys((*SPAN_PATTERNS, *WORD_PATTERNS), 0)
    for _ in range(6000):
        pieces = [rng.choice(alphabet) for _ in range(rng.randint(0, 12))]
        pieces += [rng.choice(words)] if rng.random() < 0.3 else []
        rng.shuffle(pieces)
        text = "".join(pieces)
        for pattern in tested:
            if pattern.search(text) is not None:
                tested[pattern] += 1
                assert may_match_text(pattern, text), (pattern.pattern, text)
    assert all(tested.values())
