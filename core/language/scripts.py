"""Which Unicode script a text is written in, and simplified versus traditional Chinese."""

from __future__ import annotations

import threading
from collections import Counter

# (first code point, last code point, script) for the scripts BLOOM languages use, and a few
# others that only matter as "not a BLOOM script" (a reply turning Cyrillic is a switch).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00C0, 0x024F, "Latin"),
    (0x0250, 0x02AF, "Latin"),  # IPA letters used by Fon, Bambara, Twi, Wolof (ɔ, ɛ, ŋ, ɲ)
    (0x1E00, 0x1EFF, "Latin"),  # Vietnamese and Yoruba precomposed letters
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x3040, 0x30FF, "Kana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0xF900, 0xFAFF, "Han"),
    (0x20000, 0x2FA1F, "Han"),
)

# Scripts only one BLOOM language is written in.
SINGLE_LANGUAGE_SCRIPTS: dict[str, str] = {
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Oriya": "or",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
}

# Scripts several BLOOM languages share; a statistical detector picks among these.
SHARED_SCRIPTS: dict[str, tuple[str, ...]] = {
    "Latin": (),  # every Latin-script BLOOM language: decided by the Latin detector
    "Arabic": ("ar", "ur"),
    "Devanagari": ("hi", "mr", "ne"),
    "Bengali": ("bn", "as"),
    "Han": ("zh", "zh-hant"),
}

# Letters Assamese writes where Bengali writes র and ব: their presence settles the question.
_ASSAMESE_LETTERS = frozenset("\u09f0\u09f1")
_BENGALI_RA = "\u09b0"
# Letters Urdu uses and Arabic does not.
_URDU_LETTERS = frozenset("ےںٹڈڑہھۓ")

# Frequent characters whose simplified and traditional forms differ (simplified, traditional).
_HAN_PAIRS = (
    "们們这這个個说說时時会會来來对對为為国國学學们們过過还還发發么麼样樣经經动動"
    "开開关關问問间間现現点點种種实實长長见見头頭东東车車书書门門马馬鸟鳥鱼魚语語话話"
    "读讀写寫认認识識让讓给給机機电電脑腦网網页頁线線买買卖賣钱錢银銀饭飯馆館医醫药藥"
    "气氣热熱冷冷风風业業务務产產员員务務办辦应應该該进進运運边邊远遠还還达達选選"
    "们們爱愛听聽谢謝请請让讓说說话話许許论論设設计計记記讲講试試诉訴词詞译譯调調谁誰"
    "难難题題显顯类類号號节節华華万萬与與专專两兩严嚴丰豐临臨为為乐樂义義习習乡鄉买買"
    "亚亞亲親从從仓倉们們众眾优優传傳体體价價众眾备備复復够夠头頭奋奮妈媽孙孫宁寧宝寶"
    "实實宽寬对對导導层層岁歲币幣师師带帶帮幫广廣庆慶张張录錄态態总總恶惡惊驚战戰"
    "报報担擔择擇护護拥擁换換数數断斷无無旧舊时時显顯术術杂雜权權条條来來极極标標树樹"
    "样樣桥橋档檔梦夢欢歡汉漢汤湯沟溝济濟湾灣灭滅灯燈灵靈爷爺环環现現电電画畫疗療监監"
    "盘盤确確离離种種积積称稱税稅穷窮竞競笔筆简簡粮糧紧緊红紅级級纪紀约約纸紙练練组組"
    "细細终終经經结結给給绝絕统統继繼续續维維综綜绿綠网網罗羅职職联聯胜勝脸臉艺藝"
    "节節药藥获獲观觀规規视視览覽觉覺计計订訂认認讨討让讓训訓议議记記讲講许許论論证證"
    "评評识識诉訴词詞试試诗詩话話该該详詳语語误誤说說请請读讀课課谁誰调調谈談谢謝贝貝"
    "负負财財责責质質购購贸貿费費资資赛賽赶趕跃躍车車转轉轮輪软軟较較辑輯输輸辞辭边邊"
    "过過运運还還这這进進远遠连連选選递遞逻邏错錯长長门門闭閉问問间間闻聞阅閱队隊际際"
    "陆陸险險随隨难難雾霧靠靠页頁顶頂项項顺順须須顾顧预預领領频頻题題颜顏风風飞飛饭飯"
    "马馬验驗鸡雞龙龍齐齊"
)
SIMPLIFIED_ONLY = frozenset(
    s for s, t in zip(_HAN_PAIRS[0::2], _HAN_PAIRS[1::2], strict=True) if s != t
)
TRADITIONAL_ONLY = frozenset(
    t for s, t in zip(_HAN_PAIRS[0::2], _HAN_PAIRS[1::2], strict=True) if s != t
)


# Scripts of the characters met so far: detection asks for every letter of every sentence.
_SCRIPT_OF: dict[str, str | None] = {}


def script_of(char: str) -> str | None:
    """The script of one character, or None for digits, punctuation, symbols and spaces."""
    try:
        return _SCRIPT_OF[char]
    except KeyError:
        script = _lookup_script(char)
        _SCRIPT_OF[char] = script
        return script


def _lookup_script(char: str) -> str | None:
    point = ord(char)
    if point < 0x41:
        return None
    for first, last, script in _RANGES:
        if first <= point <= last:
            return script
    return "Other" if char.isalpha() else None


def script_counts(text: str) -> Counter[str]:
    """How many letters of each script `text` has, scripts in order of first appearance."""
    counts: Counter[str] = Counter()
    for char, times in Counter(text).items():
        script = script_of(char)
        if script is not None:
            counts[script] += times
    return counts


# The scripts of `_RANGES` and "Other" (a letter in none of them). `_LETTER_CODES[point]` is,
# for every character of the Basic Multilingual Plane that is a letter, one ASCII character
# standing for its script (None for the rest: `str.translate` drops them), so a text's letters
# are turned into script codes at C speed.
_SCRIPT_NAMES: tuple[str, ...] = (*dict.fromkeys(script for _, _, script in _RANGES), "Other")
_CODE_BASE = 0x41
_BMP = 0x10000
_TABLE_LOCK = threading.Lock()
_LETTER_CODES: list[list[str | None]] = []


def _letter_codes() -> list[str | None]:
    """The script code of each character below U+10000, built once (tens of ms)."""
    with _TABLE_LOCK:
        if not _LETTER_CODES:
            number = {name: position for position, name in enumerate(_SCRIPT_NAMES)}
            table: list[str | None] = [None] * _BMP
            other = chr(_CODE_BASE + number["Other"])
            for point in range(0x41, _BMP):
                if chr(point).isalpha():
                    table[point] = other
            # Later ranges first, so where two ranges met the first would win (as in `script_of`).
            for first, last, script in reversed(_RANGES):
                if first < _BMP:
                    code = chr(_CODE_BASE + number[script])
                    table[first : min(last, _BMP - 1) + 1] = [code] * (
                        min(last, _BMP - 1) + 1 - first
                    )
            _LETTER_CODES.append(table)
        return _LETTER_CODES[0]


def load_script_table() -> None:
    """Build the table `letter_scripts` reads now rather than on first use."""
    _letter_codes()


def letter_scripts(text: str) -> tuple[str | None, int, int]:
    """The script most letters of `text` are in, its letters and all letters.

    The same answer as `script_counts(text).most_common(1)` (ties go to the script met
    first), from one `str.translate` instead of a dictionary lookup per distinct character.
    """
    codes = text.translate(_letter_codes())
    if not codes.isascii():
        # A character beyond the table (emoji, rare scripts) was left as it is.
        counted = script_counts(text)
        if not counted:
            return None, 0, 0
        script, count = counted.most_common(1)[0]
        return script, count, sum(counted.values())
    if not codes:
        return None, 0, 0
    first = codes[0]
    count = codes.count(first)
    if 2 * count <= len(codes):
        # No majority: count every script (few distinct codes), first met first.
        first, count = Counter(codes).most_common(1)[0]
    return _SCRIPT_NAMES[ord(first) - _CODE_BASE], count, len(codes)


def dominant_script(text: str) -> tuple[str | None, float]:
    """The script most letters are written in and the share of letters it has."""
    counts = script_counts(text)
    total = sum(counts.values())
    if not total:
        return None, 0.0
    script, count = counts.most_common(1)[0]
    return script, count / total


def han_variant(text: str) -> str:
    """ "zh" (simplified) or "zh-hant" (traditional) from the characters only one form uses."""
    simplified = sum(1 for char in text if char in SIMPLIFIED_ONLY)
    traditional = sum(1 for char in text if char in TRADITIONAL_ONLY)
    return "zh-hant" if traditional > simplified else "zh"


def bengali_variant(text: str) -> str | None:
    """ "as" or "bn" when a letter only one of them uses settles it, else None."""
    if any(char in _ASSAMESE_LETTERS for char in text):
        return "as"
    if _BENGALI_RA in text:
        return "bn"
    return None


def has_urdu_letters(text: str) -> bool:
    """Whether `text` uses letters Urdu writes and Arabic does not."""
    return any(char in _URDU_LETTERS for char in text)
