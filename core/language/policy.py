"""The reply-language policy: request, /lang setting, confident detection, history, locale."""

from __future__ import annotations

from collections.abc import Sequence

from core.language.detector import LanguageDetector
from core.language.languages import BY_CODE, UNDETERMINED, canonical_code
from core.language.masking import prose, prose_with_quotes
from core.language.requests import find_request
from core.language.scripts import SINGLE_LANGUAGE_SCRIPTS, script_counts
from core.messages import IncomingMessage, Turn

# A message must have this many letters of prose (code, URLs, names, numbers and emoji do not
# count) before its detected language may change the conversation's language: "ok", "👍",
# "merci!" or a pasted stack trace never flip it.
MIN_LETTERS_TO_SWITCH = 12
# Scripts without spaces pack a word into one or two characters.
MIN_HAN_TO_SWITCH = 4
# The detector's probability a message of fewer than `FEW_WORDS` words needs to change the
# conversation's language: higher than its naming threshold, because two or three words are often
# two languages at once ("second question" is English and French). On the tuning part of the
# public data, short texts named at 0.9 or more are wrong 0.9 % of the time, against 1.4 % at the
# naming threshold (0.8).
SWITCH_CONFIDENCE = 0.9
FEW_WORDS = 4


class ReplyLanguagePolicy:
    """Implements `core.language_policy.LanguagePolicy` for BLOOM's 46 languages.

    In order: a language the user asks for in this message, the conversation's `/lang`
    setting, the language of the message when it is long enough and detection is sure, the
    language of the previous turns, the platform's locale hint, else "und".
    """

    def __init__(self, detector: LanguageDetector) -> None:
        self._detector = detector

    async def choose(
        self, message: IncomingMessage, history: Sequence[Turn], preference: str | None
    ) -> str:
        request = find_request(message.text)
        if request is not None:
            return request.language
        preferred = canonical_code(preference)
        if preferred is not None:
            return preferred
        detected = await self.detect_message(message.text)
        if detected != UNDETERMINED:
            return detected
        for turn in reversed(history):
            if turn.language != UNDETERMINED:
                return turn.language
        hinted = canonical_code(message.sender.locale_hint)
        return hinted if hinted is not None else UNDETERMINED

    async def detect_message(self, text: str) -> str:
        """The language of a user's message, or "und" when it is too short or unclear.

        The prose is read first (code, links, names, numbers and quotations blanked); when that
        leaves too little, the quotations are read too. A script only one BLOOM language uses
        (Gujarati, Telugu...) answers at once, however short the text.
        """
        for readable in (prose(text), prose_with_quotes(text)):
            counts = script_counts(readable)
            if not counts:
                continue
            script, _ = counts.most_common(1)[0]
            if script in SINGLE_LANGUAGE_SCRIPTS:
                return SINGLE_LANGUAGE_SCRIPTS[script]
            if counts.get("Han", 0) >= MIN_HAN_TO_SWITCH or (
                script != "Han" and sum(counts.values()) >= MIN_LETTERS_TO_SWITCH
            ):
                found = await self._detector.adetect(readable)
                few_words = len(readable.split()) < FEW_WORDS
                if few_words and found.confidence < SWITCH_CONFIDENCE:
                    return UNDETERMINED
                return found.language
        return UNDETERMINED

    def is_supported(self, code: str) -> bool:
        """Every BLOOM language code (and common aliases: zh-TW, pt-BR, eng...)."""
        return canonical_code(code) is not None

    def language_name(self, code: str) -> str:
        canonical = canonical_code(code)
        return BY_CODE[canonical].native if canonical is not None else code
