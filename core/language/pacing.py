"""When the language guard looks at a growing reply, and what it shows between those looks."""

from __future__ import annotations

import re

from core.language.guard_thresholds import (
    CHECK_CHARS,
    FIT_LETTERS_OWN_SCRIPT,
    LATER_FIT_LETTERS,
    PARTIAL_LETTERS,
    PARTIAL_WINDOW,
)
from core.language.target_script import TargetScript

# Marks that may end a sentence: a sentence being shown stops there until it is judged.
_SENTENCE_MARK = re.compile(r"[.!?;…।॥؟۔።。！？；\n]")  # noqa: RUF001
# Clause ends: checkpoints for detection.
_CLAUSE_END = re.compile(r"[,:،؛、，：]")  # noqa: RUF001
_WORD_BREAK = re.compile(r"\s")
# Marks that end a sentence only once a blank follows them.
_SPACED = frozenset(".!?;…।॥؟۔።")  # noqa: RUF001


class Pacing:
    """One reply's checkpoints, and the sentence shown as it grows between them.

    Work is done at checkpoints only: a possible sentence end, a clause end, a word boundary
    while a sentence waits for its first words to fit, or every `CHECK_CHARS` characters. In
    between, a call costs a look at the characters just added.
    """

    def __init__(self, script: TargetScript, fit_letters: int) -> None:
        self._script = script
        self._fit_letters = fit_letters
        self.seen = 0  # length of the text at the last call
        self._checked_at = -1  # length of the text at the last checkpoint
        self.recheck = True  # the next call is a checkpoint
        self.flow_from: int | None = None  # the sentence from here fits: shown as it grows
        self._flow_end: int | None = None  # ... up to here, a mark that may end it
        self.others_cleared: int | None = None  # what the other guards let the user see
        self.script_cap = False  # flow stopped at a letter of another script
        self.letters_wanted = 0  # letters still to come before the waiting sentence is judged
        self._mark_pending = False  # the last call ended on a mark: this one is a checkpoint

    def restart(self) -> None:
        """The reply restarted (a resume, a cut): look at it again from its start."""
        self.seen = 0
        self.stop_flow()
        self.recheck = True

    def is_checkpoint(self, text: str, *, final: bool, verified: int) -> bool:
        """Whether this call is a checkpoint; `text[:verified]` passed the guard's checks."""
        seen = self.seen
        self.seen = len(text)
        marked = False
        if self.flow_from is not None:
            self._follow_flow(text, seen)
        else:
            mark = _SENTENCE_MARK.search(text, seen)
            marked = self._mark_pending or mark is not None
            # A full stop as the last character ends nothing yet ("3." may become "3.14"):
            # the next call, which sees what follows it, is the checkpoint.
            self._mark_pending = mark is not None and mark.end() == len(text) and mark[0] in _SPACED
            marked = marked and not self._mark_pending
        return final or self._due(text, seen, marked, verified)

    def checkpoint_reached(self, text: str) -> None:
        """A checkpoint looks at `text` now: the next waits for what follows."""
        self._checked_at = len(text)
        self.recheck = False

    def release(self, text: str, checked: int) -> int:
        """How far the user may see between checkpoints: `checked`, then a fitting sentence."""
        if self.flow_from is None:
            return checked
        end = len(text) if self._flow_end is None else min(len(text), self._flow_end)
        return max(checked, end)

    def shown_as_it_grew(self, start: int) -> bool:
        """Whether the sentence from `start` was shown as it grew, free of other scripts."""
        return self.flow_from == start and not self.script_cap

    def start_flow(self, text: str, start: int) -> None:
        """Show the sentence from `start` as it grows, short of any mark it already holds."""
        self.flow_from = start
        self._flow_end = None
        self.script_cap = False
        self._follow_flow(text, start)

    def stop_flow(self) -> None:
        """Show nothing more ahead of checks."""
        self.flow_from = self._flow_end = None

    def look_past_mark(self, text: str) -> None:
        """At a checkpoint: a mark the flow stopped at that ended nothing is looked past."""
        cap = self._flow_end
        if cap is not None and not self.script_cap:
            if cap < len(text) and text[cap].isalnum():
                # The mark did not end the sentence ("3.14"): look on from it.
                self._flow_end = None
                self._follow_flow(text, cap)
            else:
                self.recheck = True  # what follows the mark decides: look again next time

    def _follow_flow(self, text: str, seen: int) -> None:
        """Keep a sentence shown as it grows short of a mark that may end it.

        No checkpoint is spent on the mark itself: the display stops there, and the next
        checkpoint comes once the text after it has the letters a new sentence's opening is
        judged on; it settles the sentence that ended and judges the next one's opening.
        """
        cap = self._flow_end
        if (
            cap is not None
            and not self.script_cap
            and cap == seen
            and text[cap : cap + 1].isalnum()
        ):
            cap = self._flow_end = None  # the mark ended the text, and ended nothing ("3.14")
        if cap is not None:
            return
        for mark in _SENTENCE_MARK.finditer(text, seen):
            end = mark.end()
            if end < len(text) and text[end].isalnum():
                continue  # "3.14", "e.g": no sentence ends here
            self._flow_end = end
            # Letters after the mark are counted by `_checkpoint_due`.
            own = FIT_LETTERS_OWN_SCRIPT if self._script.own else PARTIAL_LETTERS
            self.letters_wanted = min(own, max(self._fit_letters, LATER_FIT_LETTERS))
            break
        if self._script.name is not None:
            self._stop_flow_at_other_script(text, seen)

    def _stop_flow_at_other_script(self, text: str, seen: int) -> None:
        """A letter of another script may start another language: show nothing from it on."""
        end = len(text) if self._flow_end is None else self._flow_end
        if self._script.name == "Latin" and (text.isascii() or text[seen:end].isascii()):
            return  # no letter of another script (`isascii` of a whole str is a flag look-up)
        found = self._script.other_script_at(text, seen, end)
        if found is not None:
            self._flow_end = found
            self.script_cap = True
            self.recheck = True

    def _due(self, text: str, seen: int, marked: bool, verified: int) -> bool:
        """Whether this call is a checkpoint; one falling on text the other guards still hold
        back is put off until they let some of it be shown."""
        due = self._checkpoint_due(text, seen, marked)
        held_by_others = self.others_cleared is not None and self.others_cleared <= verified
        if due and held_by_others and len(text) - self._checked_at < PARTIAL_WINDOW:
            self.recheck = True
            return False
        return due

    def _checkpoint_due(self, text: str, seen: int, marked: bool) -> bool:
        """Whether the characters added since the last call make a checkpoint."""
        if self.recheck or marked or len(text) - self._checked_at >= CHECK_CHARS:
            return True
        if self.flow_from is not None and self._flow_end is None:
            return False
        if self._flow_end is not None and seen < self._flow_end:
            seen = self._flow_end  # letters before the mark belong to the sentence it ended
        # A sentence waiting to be judged: once it may have the letters needed, every clause
        # end and every finished word is a checkpoint.
        added = text[seen:]
        self.letters_wanted -= sum(map(str.isalpha, added))
        if self.letters_wanted > 0:
            return False
        return (
            _CLAUSE_END.search(text, seen) is not None
            or _WORD_BREAK.search(text, seen) is not None
            or not added.isascii()
        )
