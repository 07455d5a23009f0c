"""Find an explicit language request in a message: "answer in English", "用中文回答"..."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from core.language.languages import BLOOM_LANGUAGES

# How each language is named in the ten most-spoken BLOOM languages (and Swahili), lower case.
_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "english",
        "anglais",
        "inglés",
        "ingles",
        "inglês",
        "inggris",
        "kiingereza",
        "英文",
        "英语",
        "英語",
        "अंग्रेज़ी",
        "अंग्रेजी",
        "इंग्लिश",
        "إنجليزية",
        "انجليزية",
        "إنكليزية",
        "انكليزية",
        "ইংরেজি",
        "ইংরেজী",
        "انگریزی",
    ),
    "fr": (
        "french",
        "français",
        "francais",
        "francés",
        "frances",
        "francês",
        "prancis",
        "perancis",
        "kifaransa",
        "法语",
        "法語",
        "法文",
        "फ्रेंच",
        "फ़्रेंच",
        "फ्रांसीसी",
        "فرنسية",
        "ফরাসি",
        "فرانسیسی",
    ),
    "es": (
        "spanish",
        "espagnol",
        "español",
        "espanol",
        "espanhol",
        "spanyol",
        "kihispania",
        "西班牙语",
        "西班牙語",
        "西班牙文",
        "स्पेनिश",
        "स्पैनिश",
        "إسبانية",
        "اسبانية",
        "স্প্যানিশ",
        "ہسپانوی",
    ),
    "pt": (
        "portuguese",
        "portugais",
        "portugués",
        "portugues",
        "português",
        "portugis",
        "kireno",
        "葡萄牙语",
        "葡萄牙語",
        "葡萄牙文",
        "पुर्तगाली",
        "برتغالية",
        "পর্তুগিজ",
        "پرتگالی",
    ),
    "ar": (
        "arabic",
        "arabe",
        "árabe",
        "arab",
        "kiarabu",
        "阿拉伯语",
        "阿拉伯語",
        "阿拉伯文",
        "अरबी",
        "عربية",
        "আরবি",
        "عربی",
    ),
    "zh": (
        "chinese",
        "mandarin",
        "chinois",
        "chino",
        "chinês",
        "mandarín",
        "tionghoa",
        "cina",
        "kichina",
        "中文",
        "汉语",
        "漢語",
        "普通话",
        "普通話",
        "简体中文",
        "簡體中文",
        "华语",
        "चीनी",
        "صينية",
        "চীনা",
        "چینی",
    ),
    "zh-hant": (
        "traditional chinese",
        "chinois traditionnel",
        "chino tradicional",
        "繁体中文",
        "繁體中文",
        "繁体字",
        "繁體字",
    ),
    "hi": (
        "hindi",
        "hindí",
        "印地语",
        "印地語",
        "हिंदी",
        "हिन्दी",
        "هندية",
        "হিন্দি",
        "ہندی",
        "kihindi",
    ),
    "bn": (
        "bengali",
        "bangla",
        "bengalí",
        "bengalês",
        "孟加拉语",
        "孟加拉語",
        "बंगाली",
        "बांग्ला",
        "بنغالية",
        "বাংলা",
        "بنگالی",
    ),
    "ur": ("urdu", "ourdou", "乌尔都语", "烏爾都語", "उर्दू", "أردية", "اردية", "উর্দু", "اردو"),
    "id": (
        "indonesian",
        "indonésien",
        "indonesio",
        "indonésio",
        "indonesia",
        "印尼语",
        "印尼語",
        "印度尼西亚语",
        "इंडोनेशियाई",
        "إندونيسية",
        "ইন্দোনেশীয়",
    ),
    "sw": (
        "swahili",
        "suajili",
        "suaíli",
        "kiswahili",
        "斯瓦希里语",
        "斯瓦希里語",
        "स्वाहिली",
        "سواحيلية",
        "সোয়াহিলি",
    ),
    "vi": (
        "vietnamese",
        "vietnamien",
        "vietnamita",
        "vietnam",
        "越南语",
        "越南語",
        "वियतनामी",
        "فيتنامية",
    ),
    "ca": ("catalan", "catalán", "catalão", "català", "加泰罗尼亚语"),
    "eu": ("basque", "vasco", "euskera", "euskara", "巴斯克语"),
}


@dataclass(frozen=True)
class LanguageRequest:
    """What the user asked for: a reply `language`; `translation` when they asked to translate;
    `mixed` when they asked for more than one language at once (a bilingual answer)."""

    language: str
    translation: bool = False
    mixed: bool = False


@cache
def _name_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for language in BLOOM_LANGUAGES:
        for name in (language.english, language.native):
            table.setdefault(name.lower(), language.code)
    for code, names in _NAMES.items():
        for name in names:
            table[name.lower()] = code
    table.pop("chinese (simplified)", None)
    table.pop("chinese (traditional)", None)
    return table


@cache
def _alternation() -> str:
    # Longest first, so "traditional chinese" wins over "chinese".
    names = sorted(_name_table(), key=len, reverse=True)
    return "|".join(re.escape(name) for name in names)


_ANSWER_VERBS = (
    r"answer|reply|respond|write|speak|talk|explain|tell me|say it|continue|"
    r"réponds|répondez|répondre|réponse|écris|écrivez|parle|parlez|explique|expliquez|"
    r"responde|respóndeme|responda|respondas|contesta|contéstame|escribe|escreva|habla|háblame|"
    r"fale|fala|explica|explícame|explique|"
    r"jawab|jawablah|balas|tulis|bicara|jelaskan|gunakan|pakai|jibu|andika|eleza|zungumza"
)
_TRANSLATE_VERBS = r"translate|translation|tradu\w*|terjemah\w*|tafsiri"


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], bool], ...]:
    names = _alternation()
    n = rf"(?P<name>{names})"
    latin_prep = r"(?:in|en|em|dalam|kwa|na|into|to|al|a|para(?: o)?|pro|ke(?:dalam)?|kwenda)"
    flags = re.IGNORECASE
    found: list[tuple[re.Pattern[str], bool]] = [
        # Latin-script languages: "translate ... into X", "traduis en X", "terjemahkan ke X".
        (
            re.compile(
                rf"\b(?:{_TRANSLATE_VERBS})\b[^\n]{{0,120}}?\b{latin_prep} (?:bahasa |the |l'|le |el |o )?{n}\b",
                flags,
            ),
            True,
        ),
        # "answer in X", "réponds en X", "responde en X", "jawab dalam bahasa X", "jibu kwa X".
        (
            re.compile(
                rf"\b(?:{_ANSWER_VERBS})\b[^.?!\n]{{0,60}}?\b(?:in|en|em|dalam|kwa|pakai|dengan|menggunakan|using|use) (?:bahasa )?{n}\b",
                flags,
            ),
            False,
        ),
        # "in X please", "en X s'il te plaît", "only in X".
        (
            re.compile(
                rf"\b(?:in|en|em) {n}(?:,)? (?:please|only|s'il (?:te|vous) pla[iî]t|svp|por favor|solamente|somente)\b",
                flags,
            ),
            False,
        ),
        (
            re.compile(
                rf"\b(?:please|only|seulement|solo|só|hanya) (?:in|en|em|dalam bahasa) {n}\b", flags
            ),
            False,
        ),
        # Chinese: 用英文回答, 请用中文, 翻译成英文.
        (re.compile(rf"(?:翻译|翻譯|译|譯)(?:成|为|為|到){n}"), True),
        (
            re.compile(
                rf"(?:用|以|使用|说|說|讲|講){n}(?:来|來)?(?:回答|回复|回覆|答复|答覆|说|說|写|寫|讲|講|解释|解釋|交流|聊天|回)?"
            ),
            False,
        ),
        # Hindi / Urdu / Bengali: "X में जवाब दो", "X میں جواب دیں", "X-এ উত্তর দাও".
        (re.compile(rf"{n}\s*(?:भाषा\s*)?(?:में|मे)\s*(?:अनुवाद|ट्रांसलेट)"), True),
        (re.compile(rf"{n}\s*(?:भाषा\s*)?(?:में|मे)\s*(?:जवाब|उत्तर|लिख|बोल|बात|समझा|बता)"), False),
        (re.compile(rf"{n}\s*(?:زبان\s*)?میں\s*ترجمہ"), True),
        (re.compile(rf"{n}\s*(?:زبان\s*)?میں\s*(?:جواب|لکھ|بات|بتا|بول|سمجھا)"), False),
        (re.compile(rf"{n}(?:তে|য়|ে|-এ)?\s*(?:ভাষায়\s*)?অনুবাদ"), True),
        (re.compile(rf"{n}(?:তে|য়|ে|-এ)?\s*(?:ভাষায়\s*)?(?:উত্তর|লিখ|বল|জবাব|বুঝিয়ে)"), False),
        # Arabic: "أجب بالإنجليزية", "ترجم إلى الفرنسية".
        (
            re.compile(rf"(?:ترجم|ترجمة|ترجمي)[^\n]{{0,120}}?(?:إلى|الى|ل)\s*(?:اللغة\s*)?ال{n}"),
            True,
        ),
        (
            re.compile(
                rf"(?:أجب|اجب|أجبني|اجبني|رد|ردّ|اكتب|تحدث|تكلم|جاوب|أجيبي|أجيبوا)[^.؟!\n]{{0,60}}?(?:بال|باللغة\s*ال){n}"
            ),
            False,
        ),
    ]
    return tuple(found)


_MIXED = re.compile(
    r"\b(?:bilingual|bilingue|both languages|deux langues|dos idiomas|duas línguas)\b",
    re.IGNORECASE,
)


def find_request(text: str) -> LanguageRequest | None:
    """The language the user explicitly asks the reply to be in, if they ask for one."""
    table = _name_table()
    for pattern, translation in _patterns():
        match = pattern.search(text)
        if match is None:
            continue
        code = table[match.group("name").lower()]
        mixed = bool(_MIXED.search(text)) or _names_two(text, match, code)
        return LanguageRequest(code, translation=translation, mixed=mixed)
    return None


def _names_two(text: str, match: re.Match[str], code: str) -> bool:
    """Whether the request goes on to name a second language ("in English and French")."""
    tail = text[match.end() : match.end() + 40]
    follow = re.match(
        rf"\s*(?:and|et|y|e|dan|na|和|与|與|और|اور|و|এবং)\s*(?:in |en |em )?(?P<name>{_alternation()})",
        tail,
        re.IGNORECASE,
    )
    return follow is not None and _name_table()[follow.group("name").lower()] != code


def asks_for_mixed_languages(text: str) -> bool:
    """Whether the user asks for an answer in several languages at once."""
    request = find_request(text)
    return names_mixed_languages(text) or (request is not None and request.mixed)


def names_mixed_languages(text: str) -> bool:
    """Whether `text` asks for a bilingual or multilingual answer without naming the languages."""
    return bool(_MIXED.search(text))
