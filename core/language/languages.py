"""BLOOM's 46 natural languages: codes, names, scripts and what each detector calls them."""

from __future__ import annotations

from dataclasses import dataclass, replace

UNDETERMINED = "und"


@dataclass(frozen=True)
class BloomLanguage:
    """One language BLOOM was trained on.

    `code` is ISO 639-1 where one exists, else ISO 639-3 ("zh-hant" for traditional Chinese).
    `english` and `native` are display names; `script` is the Unicode script it is written in;
    `langdetect`, `py3langid`, `lingua`, `cld2` are the codes those libraries use (None: unknown
    to it).
    """

    code: str
    english: str
    native: str
    script: str
    langdetect: str | None = None
    py3langid: str | None = None
    lingua: str | None = None
    cld2: str | None = None


# Checked against the BLOOM model card's list of natural languages (ROOTS corpus).
_TABLE: tuple[BloomLanguage, ...] = (
    BloomLanguage("ak", "Akan", "Akan", "Latin"),
    BloomLanguage("ar", "Arabic", "العربية", "Arabic", "ar", "ar", "AR"),
    BloomLanguage("as", "Assamese", "অসমীয়া", "Bengali", None, "as", None),
    BloomLanguage("bm", "Bambara", "bamanankan", "Latin"),
    BloomLanguage("eu", "Basque", "euskara", "Latin", None, "eu", "EU"),
    BloomLanguage("bn", "Bengali", "বাংলা", "Bengali", "bn", "bn", "BN"),
    BloomLanguage("ca", "Catalan", "català", "Latin", "ca", "ca", "CA"),
    BloomLanguage("ny", "Chichewa", "Chichewa", "Latin"),
    BloomLanguage("zh", "Chinese (simplified)", "简体中文", "Han", "zh-cn", "zh", "ZH"),
    BloomLanguage("zh-hant", "Chinese (traditional)", "繁體中文", "Han", "zh-tw", "zh", "ZH"),
    BloomLanguage("en", "English", "English", "Latin", "en", "en", "EN"),
    BloomLanguage("fon", "Fon", "Fɔngbè", "Latin"),
    BloomLanguage("fr", "French", "français", "Latin", "fr", "fr", "FR"),
    BloomLanguage("gu", "Gujarati", "ગુજરાતી", "Gujarati", "gu", "gu", "GU"),
    BloomLanguage("hi", "Hindi", "हिन्दी", "Devanagari", "hi", "hi", "HI"),
    BloomLanguage("ig", "Igbo", "Asụsụ Igbo", "Latin", None, "ig", None),
    BloomLanguage("id", "Indonesian", "Bahasa Indonesia", "Latin", "id", "id", "ID"),
    BloomLanguage("zu", "isiZulu", "isiZulu", "Latin", None, "zu", "ZU"),
    BloomLanguage("kn", "Kannada", "ಕನ್ನಡ", "Kannada", "kn", "kn", None),
    BloomLanguage("ki", "Kikuyu", "Gĩkũyũ", "Latin", None, "kik", None),
    BloomLanguage("rw", "Kinyarwanda", "Ikinyarwanda", "Latin", None, "rw", None),
    BloomLanguage("rn", "Kirundi", "Ikirundi", "Latin"),
    BloomLanguage("ln", "Lingala", "lingála", "Latin", None, "ln", None),
    BloomLanguage("lg", "Luganda", "Luganda", "Latin", None, "lg", "LG"),
    BloomLanguage("ml", "Malayalam", "മലയാളം", "Malayalam", "ml", "ml", None),
    BloomLanguage("mr", "Marathi", "मराठी", "Devanagari", "mr", "mr", "MR"),
    BloomLanguage("ne", "Nepali", "नेपाली", "Devanagari", "ne", "ne", None),
    BloomLanguage("nso", "Northern Sotho", "Sesotho sa Leboa", "Latin", None, "nso", None),
    BloomLanguage("or", "Odia", "ଓଡ଼ିଆ", "Oriya", None, "or", None),
    BloomLanguage("pt", "Portuguese", "português", "Latin", "pt", "pt", "PT"),
    BloomLanguage("pa", "Punjabi", "ਪੰਜਾਬੀ", "Gurmukhi", "pa", "pa", "PA"),
    BloomLanguage("st", "Sesotho", "Sesotho", "Latin", None, "st", "ST"),
    BloomLanguage("tn", "Setswana", "Setswana", "Latin", None, None, "TN"),
    BloomLanguage("sn", "Shona", "chiShona", "Latin", None, "sn", "SN"),
    BloomLanguage("es", "Spanish", "español", "Latin", "es", "es", "ES"),
    BloomLanguage("sw", "Swahili", "Kiswahili", "Latin", "sw", "sw", "SW"),
    BloomLanguage("ta", "Tamil", "தமிழ்", "Tamil", "ta", "ta", "TA"),
    BloomLanguage("te", "Telugu", "తెలుగు", "Telugu", "te", "te", "TE"),
    BloomLanguage("ts", "Tsonga", "Xitsonga", "Latin", None, None, "TS"),
    BloomLanguage("tum", "Tumbuka", "chiTumbuka", "Latin"),
    BloomLanguage("tw", "Twi", "Twi", "Latin"),
    BloomLanguage("ur", "Urdu", "اردو", "Arabic", "ur", "ur", "UR"),
    BloomLanguage("vi", "Vietnamese", "Tiếng Việt", "Latin", "vi", "vi", "VI"),
    BloomLanguage("wo", "Wolof", "Wolof", "Latin"),
    BloomLanguage("xh", "Xhosa", "isiXhosa", "Latin", None, "xh", "XH"),
    BloomLanguage("yo", "Yoruba", "Èdè Yorùbá", "Latin", None, "yo", "YO"),
)

# pycld2's codes: CLD2 has no model for Bambara, Fon, Kikuyu and Tumbuka, and reads Twi as Akan.
_CLD2_SAME_CODE = frozenset(
    {"ak", "ar", "as", "eu", "bn", "ca", "ny", "en", "fr", "gu", "hi", "ig", "id", "zu", "kn"}
    | {"rw", "rn", "ln", "lg", "ml", "mr", "ne", "nso", "or", "pt", "pa", "st", "tn", "sn", "es"}
    | {"sw", "ta", "te", "ts", "ur", "vi", "wo", "xh", "yo", "zh"}
)
_CLD2: dict[str, str] = {code: code for code in _CLD2_SAME_CODE} | {"zh-hant": "zh-Hant"}
BLOOM_LANGUAGES: tuple[BloomLanguage, ...] = tuple(
    replace(language, cld2=_CLD2.get(language.code)) for language in _TABLE
)

BY_CODE: dict[str, BloomLanguage] = {language.code: language for language in BLOOM_LANGUAGES}

# Tags users and platforms write that name a BLOOM language under another code.
_ALIASES: dict[str, str] = {
    "zh-cn": "zh",
    "zh-sg": "zh",
    "zh-hans": "zh",
    "zh-tw": "zh-hant",
    "zh-hk": "zh-hant",
    "zh-mo": "zh-hant",
    "zho": "zh",
    "chi": "zh",
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "por": "pt",
    "ara": "ar",
    "hin": "hi",
    "ben": "bn",
    "urd": "ur",
    "ind": "id",
    "vie": "vi",
    "swa": "sw",
    "swh": "sw",
    "twi": "tw",
    "aka": "ak",
    "bam": "bm",
    "nya": "ny",
    "kik": "ki",
    "kin": "rw",
    "run": "rn",
    "lin": "ln",
    "lug": "lg",
    "zul": "zu",
    "xho": "xh",
    "yor": "yo",
    "ibo": "ig",
    "sot": "st",
    "tsn": "tn",
    "sna": "sn",
    "tso": "ts",
    "wol": "wo",
    "ory": "or",
    "pan": "pa",
    "npi": "ne",
    "nep": "ne",
}

# Neighbours detectors mix up and a reader would not call a switch of language.
CLOSE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"zh", "zh-hant"}),
    frozenset({"st", "tn", "nso"}),
    frozenset({"zu", "xh"}),
    frozenset({"rw", "rn"}),
    frozenset({"ak", "tw"}),
    frozenset({"hi", "mr", "ne"}),
)


# Languages that take the reply language of another: Twi (Asante and Akuapem) and Fante are
# dialects of one language, Akan, written in one orthography and understood by each other's
# speakers; the public text labels them by source more than by dialect, and BLOOM's Akan and Twi
# training text cannot be told apart reliably. Detection answers "ak" for both; a user may still
# choose Twi by name with /lang.
_REPLY_LANGUAGE: dict[str, str] = {"tw": "ak"}


def reply_language(code: str) -> str:
    """The code detection answers for text in `code` ("tw" → "ak"; every other code itself)."""
    return _REPLY_LANGUAGE.get(code, code)


def canonical_code(tag: str | None) -> str | None:
    """The BLOOM code a language tag names ("pt-BR" → "pt", "zh-TW" → "zh-hant"), else None."""
    if not tag:
        return None
    cleaned = tag.strip().replace("_", "-").lower()
    if cleaned in BY_CODE:
        return cleaned
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    if cleaned.startswith("zh-"):
        # zh-Hant-TW, zh-Hans-CN: the script subtag decides.
        return "zh-hant" if "hant" in cleaned.split("-") else "zh"
    base = cleaned.split("-")[0]
    if base in BY_CODE:
        return base
    return _ALIASES.get(base)


# Every ordered pair of codes in one close group: `is_close` runs for every score of every
# detection, so it is one set lookup.
_CLOSE_PAIRS = frozenset(
    (first, second) for group in CLOSE_GROUPS for first in group for second in group
)


def is_close(first: str, second: str) -> bool:
    """Whether two codes are the same language or neighbours a detector cannot keep apart."""
    return first == second or (first, second) in _CLOSE_PAIRS


def detectable_by_any() -> frozenset[str]:
    """Codes at least one of the detector libraries (langdetect, py3langid, lingua, CLD2) knows."""
    return frozenset(
        language.code
        for language in BLOOM_LANGUAGES
        if language.langdetect or language.py3langid or language.lingua or language.cld2
    )
