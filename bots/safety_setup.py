"""Builds the safety guard and the repetition guard from settings."""

from __future__ import annotations

from bots.settings import Settings
from core.errors import ConfigurationError
from core.generation.base import TextGenerator
from core.generation.openai_completions import OpenAICompletionsGenerator
from core.generation.tgi import TgiGenerator
from core.guards.repetition import RepetitionGuard
from core.safety.base import SafetyClassifier
from core.safety.categories import ALL_CATEGORIES, OBSCENITY
from core.safety.guard import SafetyGuard
from core.safety.guard_formats import FORMATS
from core.safety.guard_model import GuardModelClassifier
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


def _guard_generator(settings: Settings, url: str) -> TextGenerator:
    """The guard model's endpoint: TGI, or an OpenAI-compatible completions server."""
    token = settings.safety_guard_api_token
    api_token = token.get_secret_value() if token else None
    timeout = settings.safety_guard_timeout_seconds
    if settings.safety_guard_api == "openai":
        if not settings.safety_guard_model_name:
            raise ConfigurationError(
                "BLOOMBRIDGE_SAFETY_GUARD_MODEL_NAME must name the model the completions server "
                "serves, e.g. Qwen/Qwen3Guard-Gen-4B"
            )
        return OpenAICompletionsGenerator(
            url, model=settings.safety_guard_model_name, timeout=timeout, api_token=api_token
        )
    return TgiGenerator(
        url,
        connect_timeout=min(settings.tgi_connect_timeout_seconds, timeout),
        first_token_timeout=timeout,
        api_token=api_token,
    )


def build_classifiers(settings: Settings) -> list[SafetyClassifier]:
    """The configured classifiers: word lists, the guard model, a local model."""
    classifiers: list[SafetyClassifier] = []
    if settings.safety_wordlists:
        classifiers.append(WordListClassifier(load_word_lists(settings.safety_wordlist_dir)))
    if settings.safety_guard_url:
        classifiers.append(
            GuardModelClassifier(
                _guard_generator(settings, settings.safety_guard_url),
                FORMATS[settings.safety_guard_model](),
                timeout=settings.safety_guard_timeout_seconds,
            )
        )
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


def build_policy(settings: Settings) -> SafetyPolicy:
    """The safety policy with the configured classifiers (closed by `SafetyPolicy.aclose`)."""
    blocked = settings.safety_block_categories
    allowed_obscenity, allowed_from_users = _OBSCENITY_POLICIES[settings.safety_obscenity]
    allowed = _categories(settings.safety_allow_categories, "safety_allow_categories")
    config = PolicyConfig(
        allowed=allowed | allowed_obscenity,
        allowed_from_users=allowed_from_users,
        blocked=None if blocked is None else _categories(blocked, "safety_block_categories"),
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
