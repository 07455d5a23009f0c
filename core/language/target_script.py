"""A reply's target script: where letters of other scripts are, and openings that fit by script."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.language.guard_thresholds import FIT_LETTERS_OWN_SCRIPT
from core.language.judge import Judgement
from core.language.languages import BLOOM_LANGUAGES, BY_CODE, is_close
from core.language.scripts import dominant_script, script_of

# Below U+0250 every character is a Latin letter, or a digit, mark or symbol of no script, but
# for three letters of no particular script (ª µ º): for a Latin target only these and the
# characters from U+0250 on may be of another script.
MAYBE_NOT_LATIN = "\xaa\xb5\xba\u0250-\U0010ffff"
_MAYBE_NOT_LATIN = re.compile(f"[{MAYBE_NOT_LATIN}]")


@dataclass(frozen=True)
class TargetScript:
    """The target `language`, its script `name` (None when unknown), and whether the script is
    its `own`: no language but the target and its close neighbours is written in it."""

    language: str
    name: str | None
    own: bool

    @classmethod
    def of(cls, language: str) -> TargetScript:
        entry = BY_CODE.get(language)
        name = entry.script if entry else None
        own = name is not None and all(
            is_close(language, other.code) for other in BLOOM_LANGUAGES if other.script == name
        )
        return cls(language, name, own)

    def other_script_at(self, text: str, start: int, end: int) -> int | None:
        """Where the first letter of a script other than the target's is in `text[start:end]`."""
        if self.name == "Latin":
            # Only the characters that may be of another script are looked up.
            found = _MAYBE_NOT_LATIN.search(text, start, end)
            while found is not None:
                index = found.start()
                script = script_of(text[index])
                if script is not None and script != "Latin":
                    return index
                found = _MAYBE_NOT_LATIN.search(text, index + 1, end)
            return None
        for index in range(start, end):
            script = script_of(text[index])
            if script is not None and script != self.name:
                return index
        return None

    def fits_by_script(self, masked: str, letters: int) -> bool:
        """Whether the first letters are all in a script only the target's language uses."""
        if not self.own or letters < FIT_LETTERS_OWN_SCRIPT:
            return False
        found, share = dominant_script(masked)
        return found == self.name and share == 1.0

    def fits_unsure(self, judgement: Judgement, masked: str) -> bool:
        """Letters all in the target's script fit when the detector, unsure, names no other.

        The conversation's language is a strong prior: outside Latin only a detector sure of a
        neighbour sharing the script (Urdu for Arabic, Marathi for Hindi) overrides it; in
        Latin the target must also be the language the detector found likeliest.
        """
        detection = judgement.detection
        if self.name is None or detection is None or detection.sure:
            return False
        found, share = dominant_script(masked)
        if found != self.name or share < 1.0:
            return False
        if self.name != "Latin":
            return True
        # Latin is shared by many languages: the target must still be the detector's favourite.
        best = max(detection.scores.items(), key=lambda item: item[1], default=None)
        return best is not None and is_close(best[0], self.language)
