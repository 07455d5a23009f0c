"""The language feature end to end: dialog manager, fake TGI over HTTP, policy and guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.language.default_detector import DefaultDetector
from core.language.guard import LanguageGuard
from core.language.policy import ReplyLanguagePolicy
from core.messages import ConversationRef, FinishReason, IncomingMessage, Reply, Sender, Turn
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, Script, fake_tokenize

CHAT = ConversationRef(platform="test", space=None, channel="lang")
FRENCH = "Paris est la capitale de la France. Elle compte plus de deux millions d'habitants."
DRIFT = (
    " The city is also famous for its museums and its food. It attracts many visitors every year."
)


def message(text: str, locale: str | None = None) -> IncomingMessage:
    return IncomingMessage(
        id="m",
        conversation=CHAT,
        sender=Sender(id="u1", locale_hint=locale),
        text=text,
        sent_at=datetime.now(UTC),
    )


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


@pytest.fixture
async def dialog(tgi: FakeTGI, detector: DefaultDetector) -> AsyncIterator[DialogManager]:
    async with TgiGenerator(tgi.url) as generator:
        yield DialogManager(
            generator=generator,
            store=MemoryStore(),
            language_policy=ReplyLanguagePolicy(detector),
            guards=[LanguageGuard(detector)],
        )


async def ask(
    dialog: DialogManager, text: str, locale: str | None = None
) -> tuple[list[str], Reply]:
    stream = dialog.handle(message(text, locale))
    snapshots = [snapshot async for snapshot in stream]
    return snapshots, stream.reply


async def test_a_french_reply_drifting_into_english_is_stopped_resumed_and_translated(
    tgi: FakeTGI, dialog: DialogManager
) -> None:
    tokens = fake_tokenize(FRENCH + DRIFT)
    # The server holds the reply just before "attracts": the stream can only get there if the
    # client kept reading after the English sentence, which it must not.
    held = asyncio.Event()
    hold_at = next(i for i, token in enumerate(tokens) if "attracts" in token)
    resumed = " La ville est célèbre pour ses musées. Yet it drifts into English again at the end."
    tgi.enqueue(
        Script(reply=tokens, hang=held, hang_after=hold_at),
        Script(reply=resumed),
        Script(reply="Pourtant, elle repasse encore à l'anglais à la fin."),
    )
    snapshots, reply = await ask(dialog, "Parle-moi de Paris et de son histoire, s'il te plaît.")

    first = tgi.streams[0]
    await first.finished.wait()
    assert first.disconnected and not first.completed
    for snapshot in snapshots:
        assert "city" not in snapshot and "drifts" not in snapshot
    assert snapshots[-1].startswith(FRENCH)
    assert reply.language == "fr"
    assert reply.finish_reason is FinishReason.REPLACED
    assert reply.text == (
        FRENCH + " La ville est célèbre pour ses musées. "
        "Pourtant, elle repasse encore à l'anglais à la fin."
    )
    prompts = [request.body["inputs"] for request in tgi.generation_requests()]
    assert "write the whole answer in French" in prompts[1]
    assert prompts[1].endswith("<bot>: " + FRENCH)
    assert "Translate the following text into French" in prompts[2]
    assert "Yet it drifts into English again" in prompts[2]
    resume = {"guard": "language", "action": "resume", "reason": "language_drift", "language": "fr"}
    translated = {
        "guard": "language",
        "action": "replace",
        "reason": "language_drift_translated",
        "language": "fr",
    }
    name = "bloombridge_guard_interventions_total"
    assert dialog.metrics.value(name, resume) == 1
    assert dialog.metrics.value(name, translated) == 1


async def test_a_reply_fixed_by_the_resume_needs_no_translation(
    tgi: FakeTGI, dialog: DialogManager
) -> None:
    tgi.enqueue(
        Script(reply=FRENCH + DRIFT),
        Script(reply=" Elle est aussi célèbre pour ses musées et sa cuisine."),
    )
    snapshots, reply = await ask(dialog, "Parle-moi de Paris et de son histoire, s'il te plaît.")
    assert reply.text == FRENCH + " Elle est aussi célèbre pour ses musées et sa cuisine."
    assert reply.finish_reason is FinishReason.STOP
    assert not any("famous" in snapshot for snapshot in snapshots)
    assert len(tgi.generation_requests()) == 2


async def test_code_only_replies_are_not_cut(tgi: FakeTGI, dialog: DialogManager) -> None:
    code = "```python\nfor name in names:\n    print(f'Hello {name}, welcome to the team!')\n```"
    tgi.enqueue(Script(reply=code))
    _, reply = await ask(dialog, "Écris une boucle Python qui salue chaque personne de la liste.")
    assert reply.language == "fr"
    assert reply.text == code
    assert reply.finish_reason is FinishReason.STOP


async def test_lang_command_sets_and_clears_the_reply_language(
    tgi: FakeTGI, dialog: DialogManager
) -> None:
    _, confirmation = await ask(dialog, "/lang sw")
    assert confirmation.text == "Kuanzia sasa nitajibu kwa Kiswahili."
    tgi.enqueue(Script(reply="Habari njema kutoka kwa mfano wa lugha."))
    _, reply = await ask(dialog, "Tell me something nice about the weather today.")
    assert reply.language == "sw"
    _, cleared = await ask(dialog, "/lang auto")
    assert cleared.finish_reason is FinishReason.COMMAND
    tgi.enqueue(Script(reply="Il fait beau aujourd'hui à Paris."))
    _, reply = await ask(dialog, "Quel temps fait-il aujourd'hui à Paris ?")
    assert reply.language == "fr"


async def test_unknown_lang_codes_are_refused(dialog: DialogManager) -> None:
    _, reply = await ask(dialog, "/lang klingon")
    assert "klingon" in reply.text
    assert await dialog.store.language(CHAT) is None


async def test_an_explicit_request_wins_over_the_message_language(
    tgi: FakeTGI, dialog: DialogManager
) -> None:
    tgi.enqueue(Script(reply="Paris is the capital of France. It is famous for its museums."))
    _, reply = await ask(dialog, "Réponds en anglais : quelle est la capitale de la France ?")
    assert reply.language == "en"
    assert reply.text == "Paris is the capital of France. It is famous for its museums."
    assert reply.finish_reason is FinishReason.STOP


@pytest.mark.parametrize(
    "short", ["ok", "👍", "merci !", "`pip install requests`", "https://example.org"]
)
async def test_short_messages_never_flip_the_conversation_language(
    tgi: FakeTGI, dialog: DialogManager, short: str
) -> None:
    await dialog.store.append_turn(
        CHAT,
        Turn("Bonjour, peux-tu m'aider ?", "Bien sûr, avec plaisir.", "u1", language="fr"),
        max_turns=10,
        ttl_seconds=60,
    )
    tgi.enqueue(Script(reply="Avec plaisir."))
    _, reply = await ask(dialog, short, locale="en")
    assert reply.language == "fr"


async def test_the_locale_hint_is_the_last_resort(tgi: FakeTGI, dialog: DialogManager) -> None:
    tgi.enqueue(Script(reply="Hola."))
    _, reply = await ask(dialog, "👋", locale="es-MX")
    assert reply.language == "es"


ENGLISH_DRIFT = (
    " The city is also famous for its museums and its food. It attracts many visitors every year."
)
# (language, question, start of the reply in that language, continuation after the resume).
DRIFTS = [
    (
        "es",
        "Háblame de la historia de Madrid, por favor.",
        "Madrid es la capital de España y su ciudad más grande. "
        "Tiene muchos museos famosos y parques muy bonitos.",
        " La ciudad también es conocida por su comida y su vida nocturna.",
    ),
    (
        "pt",
        "Fale-me sobre a história de Lisboa, por favor.",
        "Lisboa é a capital de Portugal e fica junto ao rio Tejo. "
        "A cidade tem bairros antigos e muitos miradouros.",
        " A cidade também é famosa pelos seus elétricos amarelos.",
    ),
    (
        "sw",
        "Niambie kuhusu historia ya mji wa Mombasa tafadhali.",
        "Mombasa ni mji mkubwa ulio kwenye pwani ya Kenya. "
        "Mji huu una bandari kubwa na historia ndefu ya biashara.",
        " Watu wengi hutembelea mji huu kila mwaka.",
    ),
    (
        "yo",
        "Sọ fún mi nípa ìtàn ìlú Ìbàdàn.",
        "Ìbàdàn jẹ́ ọ̀kan lára àwọn ìlú tó tóbi jùlọ ní orílẹ̀-èdè Nàìjíríà. "
        "Ọ̀pọ̀lọpọ̀ ènìyàn ló ń gbé ní ìlú náà.",
        " Àwọn ọjà ńlá wà ní ìlú náà pẹ̀lú.",
    ),
    (
        "zu",
        "Ngitshele ngomlando wedolobha laseThekwini.",
        "ITheku yidolobha elikhulu elisogwini lwaseNingizimu Afrika. "
        "Leli dolobha linolwandle oluhle kanye namatheku amaningi.",
        " Abantu abaningi bavakashela leli dolobha unyaka nonyaka.",
    ),
    (
        "hi",
        "कृपया मुझे दिल्ली के इतिहास के बारे में बताइए।",
        "दिल्ली भारत की राजधानी है और यह एक बहुत पुराना शहर है। यहाँ कई ऐतिहासिक इमारतें और बाज़ार हैं।",
        " हर साल बहुत से लोग इस शहर को देखने आते हैं।",
    ),
    (
        "ar",
        "حدثني عن تاريخ مدينة القاهرة من فضلك.",
        "القاهرة هي عاصمة مصر وأكبر مدنها. تقع المدينة على ضفاف نهر النيل ولها تاريخ طويل.",
        " يزور المدينة ملايين السياح كل عام.",
    ),
    (
        "id",
        "Tolong ceritakan tentang sejarah kota Yogyakarta.",
        "Yogyakarta adalah kota yang terkenal dengan budaya dan pendidikannya. "
        "Kota ini memiliki banyak candi dan pasar tradisional.",
        " Banyak wisatawan datang ke kota ini setiap tahun.",
    ),
    (
        "vi",
        "Hãy kể cho tôi về lịch sử của thành phố Huế.",
        "Huế là cố đô của Việt Nam và nằm bên bờ sông Hương. "
        "Thành phố có nhiều lăng tẩm và cung điện cổ.",
        " Mỗi năm có rất nhiều du khách đến thăm thành phố này.",
    ),
]


@pytest.mark.parametrize(("language", "question", "start", "resumed"), DRIFTS)
async def test_a_reply_drifting_into_english_is_cut_before_any_english_shows(
    tgi: FakeTGI,
    dialog: DialogManager,
    language: str,
    question: str,
    start: str,
    resumed: str,
) -> None:
    tgi.enqueue(Script(reply=start + ENGLISH_DRIFT), Script(reply=resumed))
    snapshots, reply = await ask(dialog, question)
    for snapshot in snapshots:
        assert "famous" not in snapshot and "museums" not in snapshot
    assert reply.language == language
    assert reply.text == start + resumed
    assert reply.finish_reason is FinishReason.STOP
