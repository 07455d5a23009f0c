"""`QuickAgreement`: its yes is the full detector's answer, its "not foreign" is never wrong here."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from core.language.combiner import Combiner, shipped_combiner
from core.language.default_detector import DefaultDetector
from core.language.detector import Detection, LanguageDetector
from core.language.judge import SentenceJudge
from core.language.quick_agreement import QuickAgreement

# Sentences of our own, whole and cut short (openings), in languages of several scripts, with
# neighbours and languages the target may be confused with.
SENTENCES = {
    "en": [
        "The quiet teacher repairs the garden gate near the river after lunch.",
        "We will send the report to everyone on the team before the meeting tomorrow.",
        "If the build fails again, check the logs and restart the service.",
        "Thanks, that works",
    ],
    "fr": [
        "Le professeur calme répare le portail du jardin près de la rivière.",
        "Nous enverrons le rapport à toute l'équipe avant la réunion de demain.",
        "Si la compilation échoue encore, regardez les journaux et relancez le service.",
    ],
    "es": [
        "El maestro tranquilo repara la puerta del jardín cerca del río.",
        "Enviaremos el informe a todo el equipo antes de la reunión de mañana.",
    ],
    "pt": [
        "O professor calmo conserta o portão do jardim perto do rio.",
        "Vamos enviar o relatório para toda a equipe antes da reunião de amanhã.",
    ],
    "ca": ["El mestre tranquil repara la porta del jardí a prop del riu."],
    "id": ["Guru yang tenang memperbaiki gerbang taman di dekat sungai setelah makan siang."],
    "sw": ["Mwalimu mtulivu anarekebisha lango la bustani karibu na mto baada ya chakula."],
    "yo": ["Olùkọ́ náà ń tún ẹnu ọ̀nà ọgbà ṣe nítòsí odò lẹ́yìn oúnjẹ ọ̀sán."],
    "zu": ["Uthisha uthule ulungisa isango lengadi eduze komfula ngemuva kwesidlo."],
    "xh": ["Utitshala ozolileyo ulungisa isango legadi kufutshane nomlambo emva kwesidlo."],
    "rw": ["Umwarimu utuje asana irembo ry'ubusitani hafi y'uruzi nyuma yo kurya."],
    "hi": ["शांत शिक्षक दोपहर के भोजन के बाद नदी के पास बगीचे का दरवाज़ा ठीक करता है।"],
    "mr": ["शांत शिक्षक दुपारच्या जेवणानंतर नदीजवळ बागेचे दार दुरुस्त करतात."],
    "ar": ["يصلح المعلم الهادئ بوابة الحديقة بالقرب من النهر بعد الغداء."],
    "ur": ["پرسکون استاد دوپہر کے کھانے کے بعد دریا کے قریب باغ کا دروازہ ٹھیک کرتا ہے۔"],
    "bn": ["শান্ত শিক্ষক দুপুরের খাবারের পরে নদীর কাছে বাগানের দরজা মেরামত করেন।"],
}
TEXTS = [
    cut
    for sentences in SENTENCES.values()
    for sentence in sentences
    for cut in (sentence, sentence[:30], sentence[:14])
] + [
    "The teacher repairs la porte du jardin près de la rivière.",
    "OK OK OK OK",
    "aaa aaa aaa",
    "",
]
TARGETS = [*SENTENCES, "de", "und", "zh", "tw"]


@pytest.fixture(scope="module")
def quick(detector: DefaultDetector) -> QuickAgreement:
    found = QuickAgreement.of(detector)
    assert found is not None
    return found


def test_a_quick_yes_is_the_detectors_answer(
    detector: DefaultDetector, quick: QuickAgreement
) -> None:
    answered = 0
    for text in TEXTS:
        full = detector.detect(text)
        for target in TARGETS:
            found = quick.agreement(text, target)
            if found is None:
                continue
            answered += 1
            assert found.language == target == full.language, (text, target)
            assert found.sure and found.script == full.script
            assert found.confidence == pytest.approx(full.confidence, abs=1e-12)
    # Not vacuous: plain sentences in the target language get the quick yes.
    assert answered >= 20


def test_plain_sentences_in_the_target_get_the_quick_yes(quick: QuickAgreement) -> None:
    for target in ("en", "fr", "es", "pt"):
        for sentence in SENTENCES[target]:
            if len(sentence) > 40:
                assert quick.agreement(sentence, target) is not None, (sentence, target)


def test_no_quick_yes_for_another_language_or_close_neighbours(quick: QuickAgreement) -> None:
    assert quick.agreement(SENTENCES["fr"][0], "en") is None
    assert quick.agreement(SENTENCES["en"][0], "fr") is None
    # The second look may share a neighbour group's probability out again: always asked.
    for target in ("zu", "xh", "rw", "rn", "st", "tn", "nso"):
        for sentences in SENTENCES.values():
            for sentence in sentences:
                assert quick.agreement(sentence, target) is None


def test_a_first_stage_that_cannot_answer_alone_gives_no_quick_yes(
    detector: DefaultDetector,
) -> None:
    model, combiner = detector.parts()
    never = QuickAgreement(model, _with_exits(combiner, (1.1, 1.1)))
    for target, sentences in SENTENCES.items():
        for sentence in sentences:
            assert never.agreement(sentence, target) is None


def _with_exits(combiner: Combiner, exits: tuple[float, ...]) -> Combiner:
    return dataclasses.replace(combiner, exits=exits)


class _Listed(LanguageDetector):
    """A detector that is not the default one: no quick path."""

    @property
    def languages(self) -> frozenset[str]:
        return frozenset({"en"})

    def detect(self, text: str) -> Detection:
        return Detection("en", 1.0, {"en": 1.0}, script="Latin")


def test_only_the_default_detector_has_a_quick_path() -> None:
    assert QuickAgreement.of(_Listed()) is None
    assert QuickAgreement.of(DefaultDetector(combiner=shipped_combiner())) is not None


def test_the_judge_decides_the_same_with_and_without_the_quick_path(
    detector: DefaultDetector,
) -> None:
    quick = SentenceJudge(detector)
    full = SentenceJudge(detector)
    full._quick = None

    async def judgements(judge: SentenceJudge) -> list[tuple[bool, bool, str | None]]:
        found = []
        for text in TEXTS:
            for target in TARGETS:
                judgement = await judge.judge(text, target, None)
                found.append((judgement.agrees, judgement.foreign, judgement.settles))
        return found

    assert asyncio.run(judgements(quick)) == asyncio.run(judgements(full))


def test_a_finished_sentence_the_second_stage_favours_is_not_foreign(
    detector: DefaultDetector, quick: QuickAgreement
) -> None:
    # Too short for the first two stages to name English alone: the full detector asks its
    # costliest stage, which names English too.
    text = "The new mayor remembe"
    assert quick.answer(text, "en") == (None, False)
    assert quick.answer(text, "en", finished=True) == (None, True)
    assert detector.detect(text).language == "en"
    # Never for another language.
    assert quick.answer(text, "fr", finished=True) == (None, False)


def test_a_finished_sentence_is_judged_foreign_as_by_the_full_detector(
    detector: DefaultDetector,
) -> None:
    quick = SentenceJudge(detector)
    full = SentenceJudge(detector)
    full._quick = None

    async def foreign(judge: SentenceJudge) -> list[bool]:
        found = []
        for text in TEXTS:
            for target in TARGETS:
                judgement = await judge.judge(text, target, None, finished=True)
                found.append(judgement.foreign)
        return found

    assert asyncio.run(foreign(quick)) == asyncio.run(foreign(full))
