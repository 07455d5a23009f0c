"""The in-process word-list layer: per-language lists of slurs and obscenities, matched on words.

Lists live in `core/data/safety/wordlists/<language>.txt` (format in
`core.safety.wordlist_files`; sources and licences in `core/data/safety/SOURCES.md`); an operator
may add a folder of their own in the same format.

Matching works on whole normalised words (see `core.safety.normalize`), so "Scunthorpe" and
"assistant" never match, while "sh1t", "s h i t" and "shiiit" do. A text is checked against
the list of its language and the English one; with an undetermined language, against all.
Entries of a `[category: this language only]` section are checked only in text of their own
language. Lists are tuned for precision: words with an everyday meaning are left out.

Context (`core.safety.list_cues`): a `[hate]` entry right after an opening quotation mark or
after a cue of its list ("called", "the word", "I'm a") is a mention or a reclaimed use and is
not reported. An entry inside one of its list's `[except]` phrases ("spic and span",
`core.safety.list_exceptions`), or right before one of its `[mention after]` cues ("is a
slur"), is not reported either; a match that may still become such a phrase is decided once
the words after it are written or the text ends, so a streamed text is judged the same whatever
its parts. Negation is not read here: the guard model judges meaning.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.safety.base import Role, SafetyClassifier, SafetyVerdict, TextWatcher
from core.safety.normalize import word_tokens
from core.safety.wordlist_files import (
    CUE_SECTIONS,
    Entry,
    WordList,
    bundled_word_lists,
    load_word_lists,
    parse_word_list,
)
from core.safety.wordlist_matching import CompiledList, WordMatch
from core.safety.wordlist_watcher import WordListWatcher

__all__ = [
    "CUE_SECTIONS",
    "Entry",
    "WordList",
    "WordListClassifier",
    "WordMatch",
    "bundled_word_lists",
    "load_word_lists",
    "parse_word_list",
]

UNDETERMINED = "und"
ALWAYS_CHECKED = "en"  # English slurs and swearing turn up in replies of every language


def _base_language(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


class WordListClassifier(SafetyClassifier):
    """Finds listed slurs and obscenities; fast enough to run inline on every chunk."""

    name = "wordlist"

    def __init__(self, word_lists: Iterable[WordList] | None = None) -> None:
        lists = bundled_word_lists() if word_lists is None else list(word_lists)
        self._lists = {word_list.language: CompiledList(word_list) for word_list in lists}
        # The same lists for text of other languages: without this-language-only entries.
        self._elsewhere = {
            word_list.language: (
                self._lists[word_list.language]
                if all(entry.everywhere for entry in word_list.entries)
                else CompiledList(word_list, elsewhere=True)
            )
            for word_list in lists
        }

    @property
    def languages(self) -> list[str]:
        """Languages that have a list."""
        return sorted(self._lists)

    def _lists_for(self, language: str) -> list[CompiledList]:
        base = _base_language(language)
        if base == UNDETERMINED:
            return list(self._elsewhere.values())
        own = [self._lists[base]] if base in self._lists else []
        english = self._elsewhere.get(ALWAYS_CHECKED)
        if english is not None and base != ALWAYS_CHECKED:
            own.append(english)
        return own

    def find(self, text: str, language: str) -> list[WordMatch]:
        """Every list entry in `text`, checked against the lists for `language`."""
        found: list[WordMatch] = []
        tokens_by_folding: dict[bool, list[tuple[str, ...]]] = {}
        for compiled in self._lists_for(language):
            tokens = tokens_by_folding.get(compiled.fold_accents)
            if tokens is None:
                tokens = word_tokens(text, fold_accents=compiled.fold_accents)
                tokens_by_folding[compiled.fold_accents] = tokens
            found.extend(compiled.find(tokens))
        return found

    def verdict_now(self, text: str, language: str) -> SafetyVerdict:
        return SafetyVerdict(
            self.name, {match.category: 1.0 for match in self.find(text, language)}
        )

    def watch(self, language: str) -> TextWatcher | None:
        return WordListWatcher(self.name, self._lists_for(language))

    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        return self.verdict_now(text, language)
