"""`MaskedReply` gives exactly `mask` and `segments` of the whole text at every step of a stream."""

from __future__ import annotations

import random

import pytest

from core.language.masked_reply import MaskedReply
from core.language.masking import mask
from core.language.segments import Segment, segments

# Pieces that exercise every pass of `mask` and every sentence end, including the ones whose
# matches reach far: fences, inline code, angle-bracket links, quotations, names, code lines.
PIECES = (
    "Le chat dort.",
    "The cat sleeps on the mat.",
    "Il est là, c'est vrai",
    "word " * 12,
    "a" * 40,
    " ",
    " ",
    "\n",
    "\n\n",
    "\t",
    "\u3000",
    "\xa0",
    "```",
    "```py\n",
    "~~~",
    "`",
    "`x`",
    "https://ex.com/a.b",
    "www.x.org",
    "<",
    ">",
    "<https://x|lien>",
    "<b",
    '"',
    "“",
    "”",
    "„",
    "«",
    "»",
    "‹",
    "›",
    "「",
    "」",
    "『",
    "』",
    "'",
    "’",
    "Jean Dupont",
    "NASA",
    "snake_case",
    "foo.bar()",
    "camelCase",
    "--flag",
    "user@ex.com",
    "@bob",
    "#tag",
    "3.14",
    "٣٤",
    "５",
    "१२",
    "x×2",
    "x;",
    ";",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "=",
    "$",
    "|",
    "*",
    "/",
    "。",
    "！",
    "？",
    "；",
    "你好",
    "…",
    "!",
    "?",
    ".",
    ",",
    ":",
    "-",
    "Paris",
    "Big Apple",
)
SEPARATORS = ("", "", " ", "  ", "\n", ". ")


def random_text(rng: random.Random, pieces: int) -> str:
    return "".join(rng.choice(PIECES) + rng.choice(SEPARATORS) for _ in range(pieces))


def first_visible(masked: str, start: int) -> int | None:
    rest = masked[start:]
    return start + len(rest) - len(rest.lstrip()) if rest.strip() else None


def assert_same_as_whole_text(reply: MaskedReply, text: str, rng: random.Random) -> None:
    whole = mask(text)
    assert reply.masked(0, len(text)) == whole, text
    start = rng.randrange(len(text) + 1)
    end = rng.randrange(start, len(text) + 1)
    assert reply.masked(start, end) == whole[start:end]
    assert reply.first_visible(start) == first_visible(whole, start)
    for final in (False, True):
        after = rng.randrange(len(text) + 1)
        expected = [s for s in segments(whole, final=final) if s.end > after]
        assert reply.segments(final=final, after=after) == expected, (text, after)


@pytest.mark.parametrize("seed", range(4))
def test_growing_text_is_masked_and_split_as_if_read_whole(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        text = random_text(rng, rng.randint(1, 60))
        reply = MaskedReply()
        end = 0
        while end < len(text):
            end = min(len(text), end + rng.choice((1, 1, 2, 3, 4, 7, 15)))
            reply.update(text[:end])
            assert_same_as_whole_text(reply, text[:end], rng)


@pytest.mark.parametrize("seed", range(3))
def test_text_that_is_not_an_extension_is_masked_afresh(seed: int) -> None:
    rng = random.Random(100 + seed)
    for _ in range(30):
        reply = MaskedReply()
        text = random_text(rng, rng.randint(5, 60))
        end = 0
        while end < len(text):
            if end and rng.random() < 0.08:
                # A restart from a kept prefix with new text (announced), or a cut to a shorter
                # text (not announced: the reply sees it is shorter).
                kept = rng.randrange(end)
                tail = random_text(rng, rng.randint(1, 20)) if rng.random() < 0.7 else ""
                if tail:
                    reply.rewind(kept)
                else:
                    reply.update(text[:kept])
                    assert_same_as_whole_text(reply, text[:kept], rng)
                text = text[:kept] + tail
                end = kept
            end = min(len(text), end + rng.choice((1, 2, 4, 9)))
            reply.update(text[:end])
            assert_same_as_whole_text(reply, text[:end], rng)


@pytest.mark.parametrize("seed", range(4))
def test_what_follows_a_forgotten_point_reads_as_in_the_whole_text(seed: int) -> None:
    rng = random.Random(200 + seed)
    for _ in range(40):
        text = random_text(rng, rng.randint(5, 60))
        reply = MaskedReply()
        end = before = 0
        while end < len(text):
            end = min(len(text), end + rng.choice((1, 2, 4, 9, 15)))
            reply.update(text[:end])
            before = rng.randint(before, end)
            reply.forget(before)
            whole = mask(text[:end])
            start = rng.randint(before, end)
            stop = rng.randint(start, end)
            assert reply.masked(start, stop) == whole[start:stop], (text[:end], before)
            assert reply.first_visible(start) == first_visible(whole, start)
            for final in (False, True):
                expected = [s for s in segments(whole, final=final) if s.end > start]
                assert reply.segments(final=final, after=start) == expected, (text[:end], before)


def test_a_long_reply_holds_its_last_sentences_only() -> None:
    sentence = "Le boulanger porte une chaise près de la rivière chaque matin. "
    reply = MaskedReply()
    text = ""
    for _ in range(200):
        for piece in (sentence[i : i + 4] for i in range(0, len(sentence), 4)):
            text += piece
            reply.update(text)
            reply.forget(len(text) - len(sentence))
    assert len(text) > 12_000
    # Without `forget`, the mask of the whole reply stays.
    assert reply.held() < 3 * len(sentence)
    whole = MaskedReply()
    whole.update(text)
    assert whole.held() >= len(text)


def stream(text: str, step: int = 1) -> MaskedReply:
    reply = MaskedReply()
    for end in range(step, len(text) + step, step):
        reply.update(text[:end])
        assert reply.masked(0, end) == mask(text[:end]), text[:end]
    return reply


def test_a_quotation_closed_after_several_sentences_blanks_them_all() -> None:
    text = "Il a dit « Bonjour. Comment allez-vous ? Très bien. » puis il est parti. Voilà."
    reply = stream(text)
    assert "Bonjour" not in reply.masked(0, len(text))


def test_a_long_prose_line_ending_like_code_is_blanked_whole_then_restored() -> None:
    prose = "Le boulanger porte une chaise près de la rivière chaque matin. " * 20
    reply = stream(prose + "x;")
    assert not reply.masked(0, len(prose) + 2).strip()
    assert reply.segments(final=False) == []
    reply.update(prose + "x; et voilà")
    assert reply.masked(0, 5) == "Le bo"
    assert reply.segments(final=False) == segments(mask(prose + "x; et voilà"), final=False)


def test_an_open_fence_blanks_everything_after_it_until_closed() -> None:
    text = "Voici le code.\n```python\nprint('Hello. World. Again.')\n" * 3 + "```\nFin. "
    reply = stream(text, step=3)
    assert reply.segments(final=True) == segments(mask(text), final=True)


def test_full_stops_of_unspaced_scripts_take_the_closing_marks_that_follow() -> None:
    text = "你好。）我们走吧！好的。"
    reply = stream(text[:3])
    assert [segment.end for segment in reply.segments(final=False)] == [3]
    reply = stream(text)
    assert reply.segments(final=False) == segments(mask(text), final=False)
    assert [segment.end for segment in reply.segments(final=False)] == [4, 9, 12]


def test_an_angle_bracket_link_may_span_lines() -> None:
    text = "Voir <https://example.org/a\nb|ce lien> pour la suite. Merci. "
    reply = stream(text)
    assert reply.masked(0, len(text)) == mask(text)


def test_sentences_after_a_position_are_those_of_the_whole_text() -> None:
    text = "Première phrase. Deuxième phrase. Troisième"
    reply = stream(text)
    assert reply.segments(final=False, after=16) == [
        Segment(17, 33, complete=True),
        Segment(34, 43, complete=False),
    ]
    assert reply.segments(final=True, after=40) == [Segment(34, 43, complete=True)]


def test_a_restart_after_a_space_may_begin_with_a_name() -> None:
    # "Dupont word" let the mask settle after "Dupont "; the restart puts a capital there.
    reply = stream("Voici Jean Dupont word")
    restarted = "Voici Jean Dupont Le"
    reply.update(restarted)
    assert reply.masked(0, len(restarted)) == mask(restarted)
    assert reply.masked(0, len(restarted)).endswith("      ")
