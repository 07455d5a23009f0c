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

import asyncio
import dataclasses
import logging
import re

from core.errors import GenerationError
from core.generation.base import GenerationParams
from core.guards.base import Guard, GuardContext, GuardSession, Verdict
from core.language.detector import Detection, LanguageDetector
from core.language.judge import MIN_LETTERS, Judgement, SentenceJudge
from core.language.languages import BLOOM_LANGUAGES, BY_CODE, is_close
from core.language.masked_reply import MaskedReply
from core.language.masking import mask
from core.language.requests import find_request, names_mixed_languages
from core.language.scripts import dominant_script, script_of
from core.prompt import render_request

logger = logging.getLogger(__name__)

REASON_DRIFT = "language_drift"
REASON_TRANSLATED = "language_drift_translated"
# A sentence whose first words fit the target is shown as it grows, while detection confirms
# it at checkpoints. The words fit once the detector agrees on this many letters (Latin and
# other scripts several languages share), or, in a script of the target's own (Han, Arabic,
# Devanagari...), once this many letters are in that script and the detector does not object.
FIT_LETTERS = 9
FIT_LETTERS_OWN_SCRIPT = 4
# Opening words the detector is unsure of are judged again this many letters later.
FIT_STEP = 8
# Once the user has text to read, a later sentence's opening is judged on this many letters:
# on fewer, the detector is often unsure (judged again later) and costs two to three times as
# much per call, as it needs all its stages; on this many it is nearly always sure at once.
LATER_FIT_LETTERS = 24
# An unfinished sentence is judged once it has this many letters, so a long sentence does not
# hold the display back to its end, and a switch inside it stops generation early.
PARTIAL_LETTERS = 40
# An unfinished sentence must be this long before it alone stops generation as foreign.
PARTIAL_FOREIGN_LETTERS = 80
# A sentence being shown is judged again after it grew by this many characters, and once
# finished only when this many of its letters came after the last judgement.
CHECK_CHARS = 96
UNJUDGED_TAIL_LETTERS = 60
# An unfinished sentence is judged on at most its last this many characters: plenty of evidence,
# and a run-on sentence (a long list, a sentence without a full stop) costs the same per token
# however long it grows.
PARTIAL_WINDOW = 400
_VISIBLE = re.compile(r"\S")
# Marks that may end a sentence: a sentence being shown stops there until it is judged.
_SENTENCE_MARK = re.compile(r"[.!?;…।॥؟۔።。！？；\n]")  # noqa: RUF001
# Clause ends: checkpoints for detection.
_CLAUSE_END = re.compile(r"[,:،؛、，：]")  # noqa: RUF001
_WORD_BREAK = re.compile(r"\s")
# Below U+0250 every character is a Latin letter, or a digit, mark or symbol of no script, but
# for three letters of no particular script (ª µ º): for a Latin target only these and the
# characters from U+0250 on may be of another script.
MAYBE_NOT_LATIN = "\xaa\xb5\xba\u0250-\U0010ffff"
_MAYBE_NOT_LATIN = re.compile(f"[{MAYBE_NOT_LATIN}]")
# Marks that end a sentence only once a blank follows them.
_SPACED = frozenset(".!?;…।॥؟۔።")  # noqa: RUF001


def firm_instruction(language: str) -> str:
    """The instruction appended to the user's message when a reply resumes after a drift."""
    entry = BY_CODE.get(language)
    name = f"{entry.english} ({entry.native})" if entry else language
    return (
        f"Important: write the whole answer in {name} only. "
        "Do not switch to any other language, not even for a single sentence."
    )


def translation_request(language: str, text: str) -> str:
    """The message asking the model to translate `text` into `language`."""
    entry = BY_CODE.get(language)
    name = f"{entry.english} ({entry.native})" if entry else language
    return (
        f"Translate the following text into {name}. Write only the translation, "
        f"keep code, links and names unchanged.\n\n{text}"
    )


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
        return LanguageGuardSession(
            context,
            self._judge,
            passive=passive,
            translate=self._translate,
            max_translation_chars=self._max_translation_chars,
            translation_timeout=self._translation_timeout,
            early_release=self._early_release,
        )


class LanguageGuardSession(GuardSession):
    """One reply's state: how far it was checked, what is shown ahead of checks, what is held.

    Work is done at checkpoints only: a possible sentence end, a clause end, a word boundary
    while a sentence waits for its first words to fit, or every `CHECK_CHARS` characters. In
    between, a call costs a look at the characters just added.
    """

    def __init__(
        self,
        context: GuardContext,
        judge: SentenceJudge,
        *,
        passive: bool,
        translate: bool,
        max_translation_chars: int,
        translation_timeout: float,
        early_release: bool,
    ) -> None:
        self._context = context
        self._judge = judge
        self._passive = passive
        self._translate = translate
        self._max_translation_chars = max_translation_chars
        self._translation_timeout = translation_timeout
        self._early_release = early_release  # off: every sentence waits to be judged
        self._target = context.language
        entry = BY_CODE.get(self._target)
        self._target_script = entry.script if entry else None
        self._own_script = self._target_script is not None and all(
            is_close(self._target, other.code)
            for other in BLOOM_LANGUAGES
            if other.script == self._target_script
        )
        # In a script several languages share, the detector decides on fewer letters than in Latin.
        self._fit_letters = FIT_LETTERS if self._target_script == "Latin" else MIN_LETTERS
        self._verified = 0  # text[:verified] passed, sentence by sentence
        self._partial_judged_at = 0
        self._resumed = False
        self._restart_at: int | None = None  # after a resume: the text kept, the rest is new
        self._held_from: int | None = None  # after a second drift: text from here is translated
        self._reply = MaskedReply()  # the reply's mask, brought up to date at checkpoints
        self.anchor: str | None = None  # the language the reply settled in when target is "und"
        self._seen = 0  # length of the text at the last call
        self._checked_at = -1  # length of the text at the last checkpoint
        self._recheck = True  # the next call is a checkpoint
        self._cleared = 0  # what the last checkpoint let the user see
        self._flow_from: int | None = None  # the sentence from here fits: shown as it grows
        self._flow_end: int | None = None  # ... up to here, a mark that may end it
        self._others_cleared: int | None = None
        self._fit_sentence = -1  # the unfinished sentence the two fields below are about
        self._next_fit = FIT_LETTERS  # letters at which its opening is judged next
        self._opening_judged = False  # its opening was judged on its own
        self._script_cap = False  # flow stopped at a letter of another script
        self._judged_to = 0  # end of the last span given to the detector
        self._letters_wanted = 0  # letters still to come before the waiting sentence is judged
        self._mark_pending = False  # the last call ended on a mark: this one is a checkpoint

    def others_cleared(self, end: int) -> None:
        self._others_cleared = end

    async def check(self, text: str, *, final: bool) -> Verdict:
        if self._passive:
            return Verdict.allow()
        if self._held_from is not None:
            return await self._hold_or_translate(text, final=final)
        seen = self._seen
        if len(text) < seen or self._restart_at is not None:
            # The reply restarted (a resume, a cut): re-check from there.
            kept = len(text) if self._restart_at is None else self._restart_at
            self._restart_at = None
            seen = 0
            self._verified = min(self._verified, kept)
            self._flow_from = self._flow_end = None
            self._recheck = True
        self._seen = len(text)
        marked = False
        if self._flow_from is not None:
            self._follow_flow(text, seen)
        else:
            mark = _SENTENCE_MARK.search(text, seen)
            marked = self._mark_pending or mark is not None
            # A full stop as the last character ends nothing yet ("3." may become "3.14"):
            # the next call, which sees what follows it, is the checkpoint.
            self._mark_pending = mark is not None and mark.end() == len(text) and mark[0] in _SPACED
            marked = marked and not self._mark_pending
        if final or self._due(text, seen, marked):
            return await self._checkpoint(text, final=final)
        return Verdict.allow(cleared=self._release(text))

    def _start_flow(self, text: str, start: int) -> None:
        """Show the sentence from `start` as it grows, short of any mark it already holds."""
        self._flow_from = start
        self._flow_end = None
        self._script_cap = False
        self._follow_flow(text, start)

    def _follow_flow(self, text: str, seen: int) -> None:
        """Keep a sentence shown as it grows short of a mark that may end it.

        No checkpoint is spent on the mark itself: the display stops there, and the next
        checkpoint comes once the text after it has the letters a new sentence's opening is
        judged on; it settles the sentence that ended and judges the next one's opening.
        """
        cap = self._flow_end
        if (
            cap is not None
            and not self._script_cap
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
            # Letters after the mark are counted by `_checkpoint_reached`.
            own = FIT_LETTERS_OWN_SCRIPT if self._own_script else PARTIAL_LETTERS
            self._letters_wanted = min(own, max(self._fit_letters, LATER_FIT_LETTERS))
            break
        if self._target_script is not None:
            self._stop_flow_at_other_script(text, seen)

    def _stop_flow_at_other_script(self, text: str, seen: int) -> None:
        """A letter of another script may start another language: show nothing from it on."""
        end = len(text) if self._flow_end is None else self._flow_end
        if self._target_script == "Latin" and (text.isascii() or text[seen:end].isascii()):
            return  # no letter of another script (`isascii` of a whole str is a flag look-up)
        found = self._other_script_at(text, seen, end)
        if found is not None:
            self._flow_end = found
            self._script_cap = True
            self._recheck = True

    def _other_script_at(self, text: str, start: int, end: int) -> int | None:
        """Where the first letter of a script other than the target's is in `text[start:end]`."""
        if self._target_script == "Latin":
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
            if script is not None and script != self._target_script:
                return index
        return None

    def _due(self, text: str, seen: int, marked: bool) -> bool:
        """Whether this call is a checkpoint; one falling on text the other guards still hold
        back is put off until they let some of it be shown."""
        due = self._checkpoint_reached(text, seen, marked)
        held_by_others = self._others_cleared is not None and self._others_cleared <= self._verified
        if due and held_by_others and len(text) - self._checked_at < PARTIAL_WINDOW:
            self._recheck = True
            return False
        return due

    def _checkpoint_reached(self, text: str, seen: int, marked: bool) -> bool:
        """Whether the characters added since the last call make a checkpoint."""
        if self._recheck or marked or len(text) - self._checked_at >= CHECK_CHARS:
            return True
        if self._flow_from is not None and self._flow_end is None:
            return False
        if self._flow_end is not None and seen < self._flow_end:
            seen = self._flow_end  # letters before the mark belong to the sentence it ended
        # A sentence waiting to be judged: once it may have the letters needed, every clause
        # end and every finished word is a checkpoint.
        added = text[seen:]
        self._letters_wanted -= sum(map(str.isalpha, added))
        if self._letters_wanted > 0:
            return False
        return (
            _CLAUSE_END.search(text, seen) is not None
            or _WORD_BREAK.search(text, seen) is not None
            or not added.isascii()
        )

    def _release(self, text: str) -> int:
        """How far the user may see between checkpoints: checked text, then a fitting sentence."""
        if self._flow_from is None:
            return self._cleared
        end = len(text) if self._flow_end is None else min(len(text), self._flow_end)
        return max(self._cleared, end)

    async def _checkpoint(self, text: str, *, final: bool) -> Verdict:
        self._checked_at = len(text)
        self._recheck = False
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
            self._flow_from = self._flow_end = None
            # The next sentence has not started: wait for the letters its opening needs.
            self._fit_sentence = -1
            self._next_fit = self._opening_letters()
            self._letters_wanted = self._letters_to_wait(0)
        # Nothing before the sentence holding the verified point is read again.
        self._reply.forget(self._verified)
        if final:
            return Verdict.allow()
        self._cleared = self._visible_end(text)
        return Verdict.allow(cleared=self._release(text))

    async def _check_open(self, text: str, start: int, end: int) -> Verdict | None:
        """Judge the unfinished sentence `text[start:end]` when there is something to learn."""
        if self._flow_from is not None and self._flow_from < start:
            # The sentence shown ended: the new one must fit on its own.
            self._flow_from = self._flow_end = None
        if self._fit_sentence != start:
            self._fit_sentence = start
            self._next_fit = self._opening_letters()
            self._opening_judged = False
            self._script_cap = False
        cap = self._flow_end
        if cap is not None and not self._script_cap:
            if cap < len(text) and text[cap].isalnum():
                # The mark did not end the sentence ("3.14"): look on from it.
                self._flow_end = None
                self._follow_flow(text, cap)
            else:
                self._recheck = True  # what follows the mark decides: look again next time
        window_start = max(start, end - PARTIAL_WINDOW)
        masked = self._reply.masked(window_start, end)
        letters = sum(map(str.isalpha, masked))
        if self._flow_from is None:
            self._letters_wanted = self._letters_to_wait(letters)
            if self._early_release and self._fits_by_script(masked, letters):
                self._start_flow(text, start)
                self._partial_judged_at = end
                return None
            if self._early_release and self._next_fit <= letters < PARTIAL_LETTERS:
                # Its opening words decide whether the sentence may be shown as it grows.
                judgement = await self._judge_span(window_start, end)
                self._partial_judged_at = end
                self._opening_judged = True
                if judgement.agrees or self._fits_unsure(judgement, masked):
                    self._start_flow(text, start)
                # Unclear: try again a few letters on; another language: only whole checks.
                self._next_fit = letters + FIT_STEP if not judgement.foreign else PARTIAL_LETTERS
                self._letters_wanted = self._letters_to_wait(letters)
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
            other = None if self._target_script is None else self._other_script_at(text, start, cut)
            if other is not None:
                cut = text.rfind(" ", start, other)
            if cut > start:
                self._verified = cut
            if (
                self._early_release
                and self._flow_from is None
                and not self._opening_judged
                and other is None
            ):
                # First judged on more letters than an opening (the tokens came in a batch): shown
                # as it grows like an opening that fits, so its end needs no judgement of its
                # own. An opening judged unsure or foreign keeps the sentence to whole checks.
                self._start_flow(text, start)
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
        own = FIT_LETTERS_OWN_SCRIPT if self._own_script else PARTIAL_LETTERS
        return min(own, self._next_fit if self._next_fit > letters else PARTIAL_LETTERS) - letters

    def _already_judged(self, start: int, end: int) -> bool:
        """Whether a finished sentence that was shown as it grew needs no judgement of its own.

        Its opening fitted; it is judged again only when what followed is long enough to hold
        a switch of its own (in a script of the target's own, only a letter of another script
        is one, and the flow stopped there).
        """
        if self._flow_from != start or self._script_cap:
            return False  # not shown as it grew, or it holds a letter of another script
        masked = self._reply.masked(start, end)
        if self._fits_by_script(masked, FIT_LETTERS_OWN_SCRIPT):
            return True
        tail = self._reply.masked(max(start, self._judged_to), end)
        return sum(map(str.isalpha, tail)) < UNJUDGED_TAIL_LETTERS

    def _fits_by_script(self, masked: str, letters: int) -> bool:
        """Whether the first letters are all in a script only the target's language uses."""
        if not self._own_script or letters < FIT_LETTERS_OWN_SCRIPT:
            return False
        found, share = dominant_script(masked)
        return found == self._target_script and share == 1.0

    def _fits_unsure(self, judgement: Judgement, masked: str) -> bool:
        """Letters all in the target's script fit when the detector, unsure, names no other.

        The conversation's language is a strong prior: outside Latin only a detector sure of a
        neighbour sharing the script (Urdu for Arabic, Marathi for Hindi) overrides it; in
        Latin the target must also be the language the detector found likeliest.
        """
        detection = judgement.detection
        if self._target_script is None or detection is None or detection.sure:
            return False
        found, share = dominant_script(masked)
        if found != self._target_script or share < 1.0:
            return False
        if self._target_script != "Latin":
            return True
        # Latin is shared by many languages: the target must still be the detector's favourite.
        best = max(detection.scores.items(), key=lambda item: item[1], default=None)
        return best is not None and is_close(best[0], self._target)

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
            self._recheck = True  # a code block in progress: shown as it grows
            return len(text)  # code is in no human language
        return self._verified

    async def _drift(self, text: str, at: int, *, final: bool) -> Verdict:
        if not self._resumed:
            self._resumed = True
            self._partial_judged_at = 0
            # The reply goes on from `text[:at]` without its trailing blanks.
            kept = at
            while kept and text[kept - 1].isspace():
                kept -= 1
            self._restart_at = kept
            self._reply.rewind(kept)
            return Verdict.resume(at, firm_instruction(self._target), REASON_DRIFT)
        if self._translate and self._target in BY_CODE:
            self._held_from = at
            return await self._hold_or_translate(text, final=final)
        return Verdict.cut(at, REASON_DRIFT)

    async def _hold_or_translate(self, text: str, *, final: bool) -> Verdict:
        start = self._held_from
        assert start is not None
        if not final and len(text) - start < self._max_translation_chars:
            return Verdict.allow(cleared=start)
        translated = await self._translated(text[start:].strip())
        if translated is None:
            return Verdict.cut(start, REASON_DRIFT)
        kept = text[:start].rstrip()
        separator = text[len(kept) : start] or (" " if kept else "")
        return Verdict.replace(f"{kept}{separator}{translated}".strip(), REASON_TRANSLATED)

    async def _translated(self, held: str) -> str | None:
        """The model's translation of `held`, or None when it failed or is still off-language."""
        if not held:
            return None
        prompt = render_request(translation_request(self._target, held))
        params: GenerationParams = dataclasses.replace(self._context.params, temperature=0.2)
        pieces: list[str] = []
        try:
            async with asyncio.timeout(self._translation_timeout):
                stream = self._context.generator.stream(prompt, params)
                try:
                    async for token in stream:
                        pieces.append(token.text)
                finally:
                    await stream.aclose()
        except (GenerationError, TimeoutError) as exc:
            logger.warning("translation of a drifted reply failed: %s", type(exc).__name__)
            return None
        translation = "".join(pieces).strip()
        if not translation:
            return None
        check: Detection = await self._judge.detect(mask(translation))
        judgement = self._judge.decide(check, self._target, self.anchor, mask(translation))
        return None if judgement.foreign else translation
