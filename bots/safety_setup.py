"""Builds the safety guard and the repetition guard from settings."""

from __future__ import annotations

from collections.abc import Callable

from bots.settings import Settings
from core.errors import ConfigurationError
from core.generation.local import LocalGenerator
from core.generation.openai_completions import OpenAICompletionsGenerator
from core.generation.tgi import TgiGenerator
from core.guards.repetition import RepetitionGuard
from core.safety.base import SafetyClassifier
from core.safety.categories import ALL_CATEGORIES, OBSCENITY
from core.safety.guard import SafetyGuard
from core.safety.guard_formats import FORMATS, GuardFormat
from core.safety.guard_model import GuardModelClassifier
from core.safety.local_guard import QWEN3GUARD_GEN_0_6B, InProcessGuardModel
from core.safety.local_model import TextClassificationModel, parse_label_map
from core.safety.policy import OnUnavailable, PolicyConfig, SafetyPolicy
from core.safety.wordlists import WordListClassifier, load_word_lists


def _categories(names: list[str], setting: str) -> frozenset[str]:
    unknown = sorted(set(names) - ALL_CATEGORIES)
    if unknown:
        raise ConfigurationError(
            f"BLOOMBRIDGE_{setting.upper()}: unknown categories {', '.join(unknown)}; "
            f"known: {', '.join(sorted(ALL_CATEGORIES))}"
        )
    return frozenset(names)


def _model_name(settings: Settings, example: str) -> str:
    if not settings.safety_guard_model_name:
        raise ConfigurationError(
            f"BLOOMBRIDGE_SAFETY_GUARD_MODEL_NAME must name the guard model, e.g. {example}"
        )
    return settings.safety_guard_model_name


def _tgi_guard(settings: Settings, guard_format: GuardFormat) -> GuardModelClassifier:
    token = settings.safety_guard_api_token
    timeout = settings.safety_guard_timeout_seconds
    generator = TgiGenerator(
        _guard_url(settings),
        connect_timeout=min(settings.tgi_connect_timeout_seconds, timeout),
        first_token_timeout=timeout,
        api_token=token.get_secret_value() if token else None,
    )
    return GuardModelClassifier(generator, guard_format, timeout=timeout)


def _openai_guard(settings: Settings, guard_format: GuardFormat) -> GuardModelClassifier:
    token = settings.safety_guard_api_token
    timeout = settings.safety_guard_timeout_seconds
    generator = OpenAICompletionsGenerator(
        _guard_url(settings),
        model=_model_name(settings, "Qwen/Qwen3Guard-Gen-4B"),
        timeout=timeout,
        api_token=token.get_secret_value() if token else None,
    )
    return GuardModelClassifier(generator, guard_format, timeout=timeout)


def _in_process_guard(settings: Settings, guard_format: GuardFormat) -> GuardModelClassifier:
    generator = LocalGenerator(_model_name(settings, f"{QWEN3GUARD_GEN_0_6B} or a folder"))
    return InProcessGuardModel(
        generator, guard_format, timeout=settings.safety_guard_timeout_seconds
    )


def _guard_url(settings: Settings) -> str:
    if not settings.safety_guard_url:
        raise ConfigurationError("BLOOMBRIDGE_SAFETY_GUARD_URL must give the guard server's URL")
    return settings.safety_guard_url


# BLOOMBRIDGE_SAFETY_GUARD_API: where the guard model runs.
GUARD_BACKENDS: dict[str, Callable[[Settings, GuardFormat], GuardModelClassifier]] = {
    "tgi": _tgi_guard,
    "openai": _openai_guard,
    "local": _in_process_guard,
}


def _wants_guard_model(settings: Settings) -> bool:
    """A guard server's URL is set, or the guard model runs in this process."""
    return bool(settings.safety_guard_url) or settings.safety_guard_api == "local"


def build_classifiers(settings: Settings) -> list[SafetyClassifier]:
    """The configured classifiers: word lists, the guard model, a local model."""
    classifiers: list[SafetyClassifier] = []
    if settings.safety_wordlists:
        classifiers.append(WordListClassifier(load_word_lists(settings.safety_wordlist_dir)))
    if _wants_guard_model(settings):
        guard_format = FORMATS[settings.safety_guard_model]()
        classifiers.append(GUARD_BACKENDS[settings.safety_guard_api](settings, guard_format))
    if settings.safety_local_model_path is not None:
        labels = parse_label_map(settings.safety_local_model_labels)
        if not labels:
            raise ConfigurationError(
                "BLOOMBRIDGE_SAFETY_LOCAL_MODEL_LABELS must map the model's labels to categories, "
                "e.g. toxic=hate"
            )
        classifiers.append(TextClassificationModel(settings.safety_local_model_path, labels))
    return classifiers


# BLOOMBRIDGE_SAFETY_OBSCENITY: (also allowed everywhere, also allowed in user messages).
_OBSCENITY_POLICIES = {
    "block": (frozenset(), frozenset()),
    "replies": (frozenset(), frozenset({OBSCENITY})),
    "allow": (frozenset({OBSCENITY}), frozenset({OBSCENITY})),
}


def safety_categories(settings: Settings) -> tuple[frozenset[str], frozenset[str] | None]:
    """The allowed and (None: all others) blocked categories; unknown names are refused."""
    blocked = settings.safety_block_categories
    allowed = _categories(settings.safety_allow_categories, "safety_allow_categories")
    return allowed, None if blocked is None else _categories(blocked, "safety_block_categories")


def build_policy(settings: Settings) -> SafetyPolicy:
    """The safety policy with the configured classifiers (closed by `SafetyPolicy.aclose`)."""
    allowed_obscenity, allowed_from_users = _OBSCENITY_POLICIES[settings.safety_obscenity]
    allowed, blocked = safety_categories(settings)
    config = PolicyConfig(
        allowed=allowed | allowed_obscenity,
        allowed_from_users=allowed_from_users,
        blocked=blocked,
        threshold=settings.safety_threshold,
        screen_user_messages=settings.safety_screen_user_messages,
        on_unavailable=OnUnavailable(settings.safety_on_guard_unavailable),
        log_text=settings.safety_log_text,
    )
    return SafetyPolicy(build_classifiers(settings), config)


def build_safety_guard(settings: Settings) -> SafetyGuard | None:
    """The streaming safety guard, or None when safety is turned off."""
    if not settings.safety_enabled:
        return None
    return SafetyGuard(build_policy(settings), chunk_chars=settings.safety_chunk_chars)


def build_repetition_guard(settings: Settings) -> RepetitionGuard | None:
    """The repetition guard, or None when it is turned off."""
    return RepetitionGuard() if settings.repetition_guard else None
