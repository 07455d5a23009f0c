"""The streaming language guard: hold each sentence until checked, repair drift, never show it.

A reply is checked sentence by sentence as it grows, on masked text (code, URLs, numbers,
names and quotes blanked). The user sees only sentences that passed. When a sentence
confidently switches language, the first time the reply resumes at the last good sentence
with a firmer instruction; the second time, the rest of the reply is held back and, once
generated, translated into the target language by the model; if that fails, the reply ends
cleanly at the last good sentence. Translation requests and answers the user asked to be in
several languages are left alone.
"""

from __future__ import annotations

import re

from core.guards.base import Guard, GuardContext, GuardSession, Verdict, VerdictKind
from core.language.detector import LanguageDetector
from core.language.drift_repair import DriftRepair
from core.language.guard_thresholds import (
    CHECK_CHARS,
    FIT_LETTERS,
    FIT_LETTERS_OWN_SCRIPT,
    FIT_STEP,
    LATER_FIT_LETTERS,
    PARTIAL_FOREIGN_LETTERS,
    PARTIAL_LETTERS,
    PARTIAL_WINDOW,
    UNJUDGED_TAIL_LETTERS,
)
from core.language.judge import MIN_LETTERS, Judgement, SentenceJudge
from core.language.masked_reply import MaskedReply
from core.language.pacing import Pacing
from core.language.requests import find_request, names_mixed_languages
from core.language.target_script import TargetScript

_VISIBLE = re.compile(r"\S")


class LanguageGuard(Guard):
    """Keeps every reply in its target language (see the module docstring)."""

    name = "language"

    def __init__(
        self,
        detector: LanguageDetector,
        *,
        translate: bool = True,
        max_translation_chars: int = 2000,
        translation_timeout: float = 60.0,
        early_release: bool = True,
    ) -> None:
        self._judge = SentenceJudge(detector)
        self._translate = translate
        self._max_translation_chars = max_translation_chars
        self._translation_timeout = translation_timeout
        self._early_release = early_release

    def begin(self, context: GuardContext) -> GuardSession:
        # A translation or a mixed-language answer is what the user asked for: watch, never cut.
        request = find_request(context.message.text)
        passive = (
            request is not None and (request.translation or request.mixed)
        ) or names_mixed_languages(context.message.text)
        repair = DriftRepair(
            context,
            self._judge,
            translate=self._translate,
            max_translation_chars=self._max_translation_chars,
            translation_timeout=self._translation_timeout,
        )
        return LanguageGuardSession(
            context, self._judge, repair, passive=passive, early_release=self._early_release
        )


class LanguageGuardSession(GuardSession):
    """One reply's state: how far it was checked, which sentence is shown ahead of checks
    (`Pacing` decides when a call is a checkpoint), and what `DriftRepair` holds back."""

    def __init__(
        self,
        context: GuardContext,
        judge: SentenceJudge,
        repair: DriftRepair,
        *,
        passive: bool,
        early_release: bool,
    ) -> None:
        self._judge = judge
        self._passive = passive
        self._repair = repair
        self._early_release = early_release  # off: every sentence waits to be judged
        self._target = context.language
        self._script = TargetScript.of(self._target)
        # In a script several languages share, the detector decides on fewer letters than in Latin.
        self._fit_letters = FIT_LETTERS if self._script.name == "Latin" else MIN_LETTERS
        self._pacing = Pacing(self._script, self._fit_letters)
        self._verified = 0  # text[:verified] passed, sentence by sentence
        self._partial_judged_at = 0
        self._restart_at: int | None = None  # after a resume: the text kept, the rest is new
        self._reply = MaskedReply()  # the reply's mask, brought up to date at checkpoints
        self.anchor: str | None = None  # the language the reply settled in when target is "und"
        self._cleared = 0  # what the last checkpoint let the user see
        self._fit_sentence = -1  # the unfinished sentence the two fields below are about
        self._next_fit = FIT_LETTERS  # letters at which its opening is judged next
        self._opening_judged = False  # its opening was judged on its own
        self._judged_to = 0  # end of the last span given to the detector

    def others_cleared(self, end: int) -> None:
        self._pacing.others_cleared = end

    async def check(self, text: str, *, final: bool) -> Verdict:
        if self._passive:
            return Verdict.allow()
        if self._repair.holding:
            return await self._repair.hold_or_translate(text, final=final)
        if len(text) < self._pacing.seen or self._restart_at is not None:
            # The reply restarted (a resume, a cut): re-check from there.
            kept = len(text) if self._restart_at is None else self._restart_at
            self._restart_at = None
            self._verified = min(self._verified, kept)
            self._pacing.restart()
        if self._pacing.is_checkpoint(text, final=final, verified=self._verified):
            return await self._checkpoint(text, final=final)
        return Verdict.allow(cleared=self._pacing.release(text, self._cleared))

    async def _checkpoint(self, text: str, *, final: bool) -> Verdict:
        self._pacing.checkpoint_reached(text)
        self._reply.update(text)
        for segment in self._reply.segments(final=final, after=self._verified):
            if segment.end <= self._verified:
                continue
            # A sentence partly shown already is judged whole (more evidence than its tail);
            # a drift found in it cuts at what was verified.
            start = max(segment.start, self._verified)
            if not segment.complete:
                verdict = await self._check_open(text, segment.start, segment.end)
                if verdict is not None:
                    return verdict
                break
            if not self._already_judged(segment.start, segment.end):
                judgement = await self._judge_span(segment.start, segment.end, finished=True)
                if judgement.foreign:
                    return await self._drift(text, start, final=final)
            self._verified = segment.end
        else:
            self._pacing.stop_flow()
            # The next sentence has not started: wait for the letters its opening needs.
            self._fit_sentence = -1
            self._next_fit = self._opening_letters()
            self._pacing.letters_wanted = self._letters_to_wait(0)
        # Nothing before the sentence holding the verified point is read again.
        self._reply.forget(self._verified)
        if final:
            return Verdict.allow()
        self._cleared = self._visible_end(text)
        return Verdict.allow(cleared=self._pacing.release(text, self._cleared))

    async def _check_open(self, text: str, start: int, end: int) -> Verdict | None:
        """Judge the unfinished sentence `text[start:end]` when there is something to learn."""
        pacing = self._pacing
        if pacing.flow_from is not None and pacing.flow_from < start:
            # The sentence shown ended: the new one must fit on its own.
            pacing.stop_flow()
        if self._fit_sentence != start:
            self._fit_sentence = start
            self._next_fit = self._opening_letters()
            self._opening_judged = False
            pacing.script_cap = False
        pacing.look_past_mark(text)
        window_start = max(start, end - PARTIAL_WINDOW)
        masked = self._reply.masked(window_start, end)
        letters = sum(map(str.isalpha, masked))
        if pacing.flow_from is None:
            pacing.letters_wanted = self._letters_to_wait(letters)
            if self._early_release and self._script.fits_by_script(masked, letters):
                pacing.start_flow(text, start)
                self._partial_judged_at = end
                return None
            if self._early_release and self._next_fit <= letters < PARTIAL_LETTERS:
                # Its opening words decide whether the sentence may be shown as it grows.
                judgement = await self._judge_span(window_start, end)
                self._partial_judged_at = end
                self._opening_judged = True
                if judgement.agrees or self._script.fits_unsure(judgement, masked):
                    pacing.start_flow(text, start)
                # Unclear: try again a few letters on; another language: only whole checks.
                self._next_fit = letters + FIT_STEP if not judgement.foreign else PARTIAL_LETTERS
                pacing.letters_wanted = self._letters_to_wait(letters)
                return None
            if letters < PARTIAL_LETTERS:
                return None
        if end - self._partial_judged_at < CHECK_CHARS:
            return None
        self._partial_judged_at = end
        judgement = await self._judge_span(window_start, end)
        if judgement.foreign and letters >= PARTIAL_FOREIGN_LETTERS:
            return await self._drift(text, max(start, self._verified), final=False)
        if judgement.agrees:
            # Checked up to the sentence's last finished word; the rest with what follows. A
            # letter of another script is never verified by a judgement of mixed text.
            cut = text.rfind(" ", start, end)
            other = (
                None
                if self._script.name is None
                else self._script.other_script_at(text, start, cut)
            )
            if other is not None:
                cut = text.rfind(" ", start, other)
            if cut > start:
                self._verified = cut
            if (
                self._early_release
                and pacing.flow_from is None
                and not self._opening_judged
                and other is None
            ):
                # First judged on more letters than an opening (the tokens came in a batch): shown
                # as it grows like an opening that fits, so its end needs no judgement of its
                # own. An opening judged unsure or foreign keeps the sentence to whole checks.
                pacing.start_flow(text, start)
        return None

    def _opening_letters(self) -> int:
        """Letters on which a sentence's opening is first judged: few while nothing was shown."""
        if self._verified == 0:
            return self._fit_letters  # the user is waiting for the reply's first words
        return max(self._fit_letters, LATER_FIT_LETTERS)

    def _letters_to_wait(self, letters: int) -> int:
        """Letters the waiting sentence needs before its next judgement (masking only removes)."""
        if not self._early_release:
            return PARTIAL_LETTERS - letters
        own = FIT_LETTERS_OWN_SCRIPT if self._script.own else PARTIAL_LETTERS
        return min(own, self._next_fit if self._next_fit > letters else PARTIAL_LETTERS) - letters

    def _already_judged(self, start: int, end: int) -> bool:
        """Whether a finished sentence that was shown as it grew needs no judgement of its own.

        Its opening fitted; it is judged again only when what followed is long enough to hold
        a switch of its own (in a script of the target's own, only a letter of another script
        is one, and the flow stopped there).
        """
        if not self._pacing.shown_as_it_grew(start):
            return False  # not shown as it grew, or it holds a letter of another script
        masked = self._reply.masked(start, end)
        if self._script.fits_by_script(masked, FIT_LETTERS_OWN_SCRIPT):
            return True
        tail = self._reply.masked(max(start, self._judged_to), end)
        return sum(map(str.isalpha, tail)) < UNJUDGED_TAIL_LETTERS

    async def _judge_span(self, start: int, end: int, *, finished: bool = False) -> Judgement:
        """The judgement of `text[start:end]`; `finished`: a complete sentence, of which only
        whether it is foreign is read."""
        self._judged_to = end
        judgement = await self._judge.judge(
            self._reply.masked(start, end), self._target, self.anchor, finished=finished
        )
        if self.anchor is None and self._target not in self._judge.detectable:
            self.anchor = judgement.settles
        return judgement

    def _visible_end(self, text: str) -> int:
        """How far the user may see: checked text, plus blanked code or links that follow it."""
        visible = self._reply.first_visible(self._verified)
        if visible is not None:
            return visible
        following = _VISIBLE.search(text, self._verified)
        if following and text.startswith(("```", "~~~"), following.start()):
            self._pacing.recheck = True  # a code block in progress: shown as it grows
            return len(text)  # code is in no human language
        return self._verified

    async def _drift(self, text: str, at: int, *, final: bool) -> Verdict:
        verdict = await self._repair.drift(text, at, final=final, anchor=self.anchor)
        if verdict.kind is VerdictKind.RESUME:
            self._partial_judged_at = 0
            # The reply goes on from `text[:at]` without its trailing blanks.
            kept = at
            while kept and text[kept - 1].isspace():
                kept -= 1
            self._restart_at = kept
            self._reply.rewind(kept)
        return verdict
