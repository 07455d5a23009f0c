"""Word-list files: the format of `core/data/safety/wordlists/<language>.txt` and how they load.

    # fold-accents: yes        (no: accents tell words apart in this language)
    [hate]
    a slur
    [hate: this language only]
    a slur that is an everyday word in other languages
    [obscenity]
    a vulgar word
    [mention]
    called                     (a cue: a slur after it is reported, not used)
    [mention after]
    is a slur                  (a cue: a slur right before it is reported, not used)
    [ingroup]
    i'm a                      (a cue: a slur after it is a reclaimed, in-group use)
    [except]
    spic and span              (a phrase in which a listed word is not what it is listed for)
    [remove]
    retarded                   (in an operator's list: a bundled entry to leave out)

Sources, licences and how entries were chosen: `core/data/safety/SOURCES.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from core.errors import ConfigurationError
from core.safety.categories import ALL_CATEGORIES

# Sections that list context cues rather than entries: a hate term after one is not an insult.
CUE_SECTIONS = frozenset({"mention", "ingroup"})
# The section of phrases in which a listed word is not meant as listed ("spic and span").
EXCEPT_SECTION = "except"
# Cues that follow the one-word slur they excuse ("<slur> is a slur"): counter-speech often
# names the word first.
AFTER_SECTION = "mention after"
# The section of an operator's list naming bundled entries to leave out (the false positives
# an entry costs are a choice: README, "Safety").
REMOVE_SECTION = "remove"
# A section qualifier: its entries are not checked in text of other languages, where they are
# everyday words (English "retard" is French for "late").
THIS_LANGUAGE_ONLY = "this language only"


@dataclass(frozen=True)
class Entry:
    """One list entry: its words as written, the category it belongs to, and where it applies."""

    term: str
    category: str
    everywhere: bool = True  # False: only in text of the list's own language


@dataclass(frozen=True)
class WordList:
    """The entries of one language, its context cues and exceptions, how its text is normalised."""

    language: str
    entries: tuple[Entry, ...]
    fold_accents: bool = True
    cues: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    after_cues: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # bundled entries an operator's list leaves out


def _section(language: str, header: str) -> tuple[str, bool]:
    """The category a `[header]` opens and whether its entries apply in other languages too."""
    name, _, qualifier = header.partition(":")
    name, qualifier = name.strip(), qualifier.strip().lower()
    if name not in ALL_CATEGORIES and name not in CUE_SECTIONS | {
        EXCEPT_SECTION,
        AFTER_SECTION,
        REMOVE_SECTION,
    }:
        raise ConfigurationError(f"word list {language}: unknown category {name!r}")
    if qualifier and (qualifier != THIS_LANGUAGE_ONLY or name not in ALL_CATEGORIES):
        raise ConfigurationError(f"word list {language}: unknown section [{header}]")
    return name, not qualifier


def parse_word_list(language: str, text: str) -> WordList:
    """Read one list file: `# fold-accents:` header, `[category]` sections, one entry a line."""
    entries: list[Entry] = []
    cues: list[str] = []
    exceptions: list[str] = []
    after_cues: list[str] = []
    removed: list[str] = []
    category: str | None = None
    everywhere = True
    fold_accents = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            if key.strip().lower() == "fold-accents":
                fold_accents = value.strip().lower() not in ("no", "false")
            continue
        if line.startswith("[") and line.endswith("]"):
            category, everywhere = _section(language, line[1:-1])
            continue
        if category is None:
            raise ConfigurationError(
                f"word list {language}, line {number}: entry before a [category]"
            )
        if category in CUE_SECTIONS:
            cues.append(line)
        elif category == EXCEPT_SECTION:
            exceptions.append(line)
        elif category == AFTER_SECTION:
            after_cues.append(line)
        elif category == REMOVE_SECTION:
            removed.append(line)
        else:
            entries.append(Entry(line, category, everywhere))
    return WordList(
        language,
        tuple(entries),
        fold_accents,
        tuple(cues),
        tuple(exceptions),
        tuple(after_cues),
        tuple(removed),
    )


def _read_folder(folder: Traversable | Path) -> list[WordList]:
    lists = []
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".txt"):
            lists.append(parse_word_list(item.name.removesuffix(".txt"), item.read_text("utf-8")))
    return lists


def bundled_word_lists() -> list[WordList]:
    """The lists shipped with bloombridge."""
    return _read_folder(resources.files("core").joinpath("data", "safety", "wordlists"))


def load_word_lists(extra_folder: Path | None = None) -> list[WordList]:
    """Bundled lists plus an operator's folder.

    An operator list extends the bundled list of its language and drops the bundled entries its
    `[remove]` section names (in every category).
    """
    lists = bundled_word_lists()
    if extra_folder is None:
        return lists
    if not extra_folder.is_dir():
        raise ConfigurationError(f"word list folder {extra_folder} does not exist")
    by_language = {word_list.language: word_list for word_list in lists}
    for extra in _read_folder(extra_folder):
        base = by_language.get(extra.language)
        if base is not None:
            removed = {term.casefold() for term in extra.removed}
            kept = tuple(entry for entry in base.entries if entry.term.casefold() not in removed)
            extra = WordList(
                extra.language,
                kept + extra.entries,
                extra.fold_accents,
                base.cues + extra.cues,
                base.exceptions + extra.exceptions,
                base.after_cues + extra.after_cues,
            )
        by_language[extra.language] = extra
    return list(by_language.values())
