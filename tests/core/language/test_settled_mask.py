"""`SettledMask` reads like the string its pieces make, however they were appended or cut."""

from __future__ import annotations

import random

from core.language.settled_mask import SettledMask


def test_slices_truncation_and_visible_characters_match_the_joined_string() -> None:
    rng = random.Random(3)
    for _ in range(200):
        mask = SettledMask()
        whole = ""
        for _ in range(rng.randint(1, 12)):
            if whole and rng.random() < 0.2:
                length = rng.randrange(len(whole) + 1)
                mask.truncate(length)
                whole = whole[:length]
            piece = "".join(rng.choice("ab  \n") for _ in range(rng.randint(0, 6)))
            mask.append(piece)
            whole += piece
            assert mask.length == len(whole)
            assert mask.last() == whole[-1:]
            start = rng.randrange(len(whole) + 1)
            end = rng.randrange(start, len(whole) + 1)
            assert mask.slice(start, end) == whole[start:end]
            rest = whole[start:end]
            expected = start + len(rest) - len(rest.lstrip()) if rest.strip() else None
            assert mask.visible(start, end) == expected
        assert mask.slice(0, len(whole)) == whole


def test_forgotten_characters_read_as_blanks_and_are_not_held() -> None:
    rng = random.Random(5)
    for _ in range(200):
        mask = SettledMask()
        whole = ""
        forgotten = 0
        for _ in range(rng.randint(1, 12)):
            piece = "".join(rng.choice("ab  \n") for _ in range(rng.randint(0, 6)))
            mask.append(piece)
            whole += piece
            if whole and rng.random() < 0.4:
                forgotten = max(forgotten, min(rng.randrange(len(whole) + 1), len(whole) - 1))
                mask.forget(forgotten)
            if whole and rng.random() < 0.2:
                length = rng.randrange(len(whole) + 1)
                mask.truncate(length)
                whole = whole[: max(length, mask.start)]
            seen = " " * mask.start + whole[mask.start :]
            assert mask.start <= max(forgotten, 0) or not whole
            assert mask.held() == len(whole) - mask.start
            assert mask.length == len(whole)
            start = rng.randrange(len(whole) + 1)
            end = rng.randrange(start, len(whole) + 1)
            assert mask.slice(start, end) == seen[start:end]
            rest = seen[max(start, mask.start) : end]
            expected = (
                max(start, mask.start) + len(rest) - len(rest.lstrip()) if rest.strip() else None
            )
            assert mask.visible(max(start, mask.start), end) == expected
