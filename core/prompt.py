"""BLOOMChat's prompt template, turn-marker neutralisation and trimming to the input budget."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.errors import PromptTooLongError
from core.generation.base import GenerationParams, ModelInfo, TextGenerator
from core.messages import Turn
from core.safety.normalize import normalize, word_tokens

HUMAN = "<human>:"
BOT = "<bot>:"
END_OF_TURN = "</s>"

# A bracketed word in folded text; it is a marker when the word reads as one of _MARKER_WORDS.
_BRACKETED = re.compile(r"<\s*/?\s*(?P<word>[^<>\s/]{1,12})\s*>")
# `<human>`, `< bot >:`, `</s>`, `<s>`: the markers the model reads as structure.
_MARKER_WORDS = frozenset({"human", "bot", "s"})
# Characters that fold to "<" (the ASCII one and its full-width and small forms).
_OPENING_BRACKETS = ("<", "\uff1c", "\ufe64")
# A look-alike angle bracket: the model sees the text of the marker, not the marker.
_NEUTRAL_BRACKET = "\u2039"
# Blank characters that are not whitespace to Python: Hangul fillers, the blank Braille cell.
_BLANK_LETTERS = frozenset("\u3164\uffa0\u115f\u1160\u2800")
# Characters the tokenizer may spend a whole token on: digits and symbols.
_SINGLE_TOKEN_CHARS = re.compile(r"[^\w\s]|\d")
# Tokens a segment may gain or lose where it meets its neighbours when counted separately.
_BOUNDARY_SLACK = 2
# What a saved turn adds after the request and the reply: " " before the reply, "</s>", "\n".
_TURN_END_TOKENS = 3


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    # The safety normaliser's folding, one character at a time so positions map back.
    return normalize(char, fold_accents=False)


def _reads_as_marker(word: str) -> bool:
    """Whether a bracketed word spells a marker once look-alike letters are made Latin."""
    tokens = word_tokens(word, fold_accents=True)
    return len(tokens) == 1 and not _MARKER_WORDS.isdisjoint(tokens[0])


def neutralize(text: str) -> str:
    """Make turn markers inside user or model text inert, so no one can forge a turn.

    Markers are looked for in the text as the safety normaliser folds it (full-width forms,
    invisible characters, case; look-alike letters), so `<b\u200bot>:`, `<b\u043et>:` with a
    Cyrillic o and `\uff1cbot\uff1e:` are caught too. A marker's opening bracket becomes a look-alike
    one; everything else is left exactly as written.
    """
    text = text.replace("\r\n", "\n")
    if not any(bracket in text for bracket in _OPENING_BRACKETS):
        return text
    folded: list[str] = []
    origin: list[int] = []  # index in `text` of each folded character
    for index, char in enumerate(text):
        piece = _fold(char)
        folded.append(piece)
        origin.extend([index] * len(piece))
    flat = "".join(folded)
    pieces: list[str] = []
    kept_until = 0
    for match in _BRACKETED.finditer(flat):
        if not _reads_as_marker(match["word"]):
            continue
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        pieces.append(text[kept_until:start])
        pieces.append(_NEUTRAL_BRACKET + text[start + 1 : end])
        kept_until = end
    pieces.append(text[kept_until:])
    return "".join(pieces)


def has_visible_text(text: str) -> bool:
    """Whether `text` shows anything once whitespace and invisible characters are removed."""
    return any(
        not char.isspace()
        and unicodedata.category(char) not in ("Cc", "Cf")
        and char not in _BLANK_LETTERS
        for char in normalize(text, fold_accents=False)
    )


def render_turn(turn: Turn) -> str:
    """One finished exchange in BLOOMChat's template."""
    return (
        f"{HUMAN} {neutralize(turn.user_text)}\n{BOT} {neutralize(turn.reply_text)}{END_OF_TURN}\n"
    )


def render_request(user_text: str, instruction: str = "", reply_prefix: str = "") -> str:
    """The open exchange the model must complete, optionally with an instruction and a started reply."""
    user = neutralize(user_text)
    if instruction:
        user = f"{user}\n\n{instruction}"
    opening = f"{HUMAN} {user}\n{BOT}"
    return f"{opening} {neutralize(reply_prefix)}" if reply_prefix else opening


def estimate_tokens(text: str) -> int:
    """A conservative token count: two UTF-8 bytes a token, plus one for every digit and symbol.

    BLOOM's tokenizer averages about four bytes a token in English and rarely fewer than two
    in other scripts, but may spend a token on each digit or symbol; so this over-counts
    rather than letting a prompt overflow the server.
    """
    return math.ceil(len(text.encode("utf-8")) / 2) + len(_SINGLE_TOKEN_CHARS.findall(text))


@dataclass(frozen=True)
class Prompt:
    """A prompt ready for the model and the history turns it kept."""

    text: str
    kept_turns: tuple[Turn, ...]
    input_tokens: int
    max_new_tokens: int
    request_tokens: int = 0  # the newest request's share of `input_tokens` (counted or estimated)


class PromptBuilder:
    """Builds BLOOMChat prompts that fit the server's input budget, dropping oldest turns first."""

    def __init__(self, generator: TextGenerator, *, cache_size: int = 4096) -> None:
        self._generator = generator
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._cache_size = cache_size

    @staticmethod
    def turn_tokens(prompt: Prompt, reply_text: str, generated_tokens: int | None) -> int:
        """Tokens the finished exchange takes in a later prompt, without asking the tokenizer.

        The request's count comes from building `prompt`; the reply's is the number of tokens
        the model streamed for it (more than it kept when a guard cut it), or an estimate when
        the reply is not the model's text.
        """
        reply = generated_tokens if generated_tokens is not None else estimate_tokens(reply_text)
        return prompt.request_tokens + reply + _TURN_END_TOKENS

    async def _turn_cost(self, turn: Turn, rendered: str) -> int:
        """A history turn's tokens: its stored count, or the tokenizer's for older turns."""
        counted = turn.tokens if turn.tokens is not None else await self.count(rendered)
        return counted + _BOUNDARY_SLACK

    async def count(self, text: str) -> int:
        """Tokens in `text`, from the server's tokenizer when it has one; cached, since turns recur."""
        cached = self._counts.get(text)
        if cached is not None:
            self._counts.move_to_end(text)
            return cached
        ids = await self._generator.tokenize(text)
        counted = len(ids) if ids is not None else estimate_tokens(text)
        self._counts[text] = counted
        if len(self._counts) > self._cache_size:
            self._counts.popitem(last=False)
        return counted

    async def request_overhead(self) -> int:
        """Tokens a request costs beyond the user's own text: the template around it."""
        return await self.count(render_request("")) + _BOUNDARY_SLACK

    @staticmethod
    def input_budget(info: ModelInfo, params: GenerationParams) -> int:
        """Tokens the prompt may use: the input limit, and room left for the reply in the total."""
        return min(info.max_input_tokens, info.max_total_tokens - params.max_new_tokens)

    async def build(
        self,
        history: Sequence[Turn],
        user_text: str,
        params: GenerationParams,
        *,
        instruction: str = "",
        reply_prefix: str = "",
    ) -> Prompt:
        """The newest request plus as many recent turns as fit; raises PromptTooLongError.

        The request alone (with any instruction and started reply) must fit; older turns are
        added newest first while they fit.
        """
        info = await self._generator.info()
        budget = self.input_budget(info, params)
        request = render_request(user_text, instruction, reply_prefix)
        rendered_history = [render_turn(turn) for turn in history]
        # Turns carry their counted tokens; only older turns and the request are estimated.
        estimated = (
            estimate_tokens(request)
            + _BOUNDARY_SLACK
            + sum(
                (turn.tokens if turn.tokens is not None else estimate_tokens(text))
                + _BOUNDARY_SLACK
                for turn, text in zip(history, rendered_history, strict=True)
            )
        )
        if estimated <= budget:
            # Even the over-count fits: no tokenizer round trip is needed.
            return Prompt(
                text="".join(rendered_history) + request,
                kept_turns=tuple(history),
                input_tokens=estimated,
                max_new_tokens=params.max_new_tokens,
                request_tokens=estimate_tokens(request),
            )
        request_tokens = await self.count(request)
        used = request_tokens + _BOUNDARY_SLACK
        if used > budget:
            excess = used - budget
            raise PromptTooLongError(
                f"the message needs {used} tokens but at most {budget} fit",
                excess_tokens=excess,
                limit_tokens=budget,
            )
        kept: list[Turn] = []
        rendered: list[str] = []
        for turn, text in zip(reversed(history), reversed(rendered_history), strict=True):
            cost = await self._turn_cost(turn, text)
            if used + cost > budget:
                break
            used += cost
            kept.append(turn)
            rendered.append(text)
        kept.reverse()
        rendered.reverse()
        return Prompt(
            text="".join(rendered) + request,
            kept_turns=tuple(kept),
            input_tokens=used,
            max_new_tokens=params.max_new_tokens,
            request_tokens=request_tokens,
        )
