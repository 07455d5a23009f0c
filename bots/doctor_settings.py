"""`bloombridge doctor` checks of settings read only when a bot is built: limits and safety."""

from __future__ import annotations

from limits.aio.storage import MemoryStorage

from bots.findings import Finding
from bots.safety_setup import GUARD_BACKENDS, safety_categories
from bots.settings import Settings
from bots.wiring import admission_policy
from core.admission import Admission
from core.errors import BloombridgeError, ConfigurationError
from core.safety.guard_formats import FORMATS
from core.safety.wordlists import load_word_lists


def check_rate_limits(settings: Settings) -> Finding:
    """Whether both rate limits are in the `limits` notation (the same parse the bot does)."""
    try:
        Admission(admission_policy(settings), MemoryStorage())
    except ConfigurationError as exc:
        return Finding(False, "rate limits", str(exc))
    per_user = settings.rate_limit_per_user or "no limit"
    per_chat = settings.rate_limit_per_conversation or "no limit"
    return Finding(True, "rate limits", f"{per_user} per user, {per_chat} per chat")


def check_safety_categories(settings: Settings) -> Finding:
    """Whether every category named in the allow and block lists exists."""
    try:
        allowed, blocked = safety_categories(settings)
    except ConfigurationError as exc:
        return Finding(False, "safety categories", str(exc))
    blocking = "all others" if blocked is None else ", ".join(sorted(blocked)) or "none"
    detail = f"allowed: {', '.join(sorted(allowed)) or 'none'}; blocking: {blocking}"
    return Finding(True, "safety categories", detail)


def check_word_lists(settings: Settings) -> Finding:
    """The bundled word lists and the operator's folder load as the bot loads them."""
    if not settings.safety_enabled or not settings.safety_wordlists:
        return Finding(True, "word lists", "turned off")
    folder = settings.safety_wordlist_dir
    try:
        lists = load_word_lists(folder)
    except ConfigurationError as exc:
        return Finding(False, "word lists", str(exc))
    extra = f", with the lists in {folder}" if folder is not None else ""
    return Finding(True, "word lists", f"{len(lists)} languages{extra}")


async def check_guard_model(settings: Settings) -> Finding | None:
    """Whether the guard model's server answers; None when no guard server is configured."""
    if not settings.safety_enabled or not settings.safety_guard_url:
        return None
    if settings.safety_guard_api not in ("tgi", "openai"):
        return None  # the guard runs in this process: nothing to reach
    subject = f"guard model at {settings.safety_guard_url}"
    guard_format = FORMATS[settings.safety_guard_model]()
    try:
        classifier = GUARD_BACKENDS[settings.safety_guard_api](settings, guard_format)
    except ConfigurationError as exc:
        return Finding(False, subject, str(exc))
    try:
        info = await classifier.generator.info()
    except BloombridgeError as exc:
        return Finding(False, subject, f"does not answer: {exc}")
    finally:
        await classifier.aclose()
    return Finding(True, subject, f"answers, model {info.model_id or '(unnamed)'}")
