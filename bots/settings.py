"""Settings, read once from BLOOMBRIDGE_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.config import DialogConfig
from core.errors import ConfigurationError
from core.generation.base import GenerationParams
from core.generation.local_loading import DEFAULT_LOCAL_MODEL
from core.generation.pool import PoolPolicy
from core.generation.tgi import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_FIRST_TOKEN_TIMEOUT,
    DEFAULT_TOKEN_TIMEOUT,
)
from core.store.redis_pool import DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_TIMEOUT_SECONDS

CONFIG_FILE_VARIABLE = "BLOOMBRIDGE_CONFIG_FILE"
_config_file: ContextVar[str | None] = ContextVar("bloombridge_config_file", default=None)


class TelegramSettings(BaseModel):
    """`BLOOMBRIDGE_TELEGRAM_*`: the bot token from @BotFather and the Bot API server (self-
    hosted servers too); a webhook URL switches from long polling to webhook mode (secret
    required)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    webhook_path: str = "telegram"


class DiscordSettings(BaseModel):
    """`BLOOMBRIDGE_DISCORD_*`: the bot token (Developer Portal, Bot page); where REST calls
    (with the API version) and the gateway go, e.g. a rate-limit or gateway proxy; the
    privileged message-content intent and the channels answered without a mention (they
    need it); a new thread for the answer to a mention in a channel."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    token: SecretStr | None = None
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    message_content: bool = False
    listen_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    thread_per_mention: bool = False

    @field_validator("api_url", "gateway_url", mode="before")
    @classmethod
    def _trim_url(cls, value: Any) -> Any:
        return value.strip().rstrip("/") or None if isinstance(value, str) else value

    @field_validator("listen_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: Any) -> Any:
        if isinstance(value, str | int):
            return [entry.strip() for entry in str(value).split(",") if entry.strip()]
        return value


# The names of the per-platform groups below; each is a field of `Settings`.
PLATFORM_GROUPS = ("telegram", "discord")


class Settings(BaseSettings):
    """Everything an operator can set; environment variables win over the config file."""

    # "_" splits once, so BLOOMBRIDGE_TELEGRAM_WEBHOOK_URL is telegram.webhook_url, while
    # flat names such as BLOOMBRIDGE_TGI_URLS stay whole.
    model_config = SettingsConfigDict(
        env_prefix="BLOOMBRIDGE_",
        extra="ignore",
        frozen=True,
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    # Model servers: TGI replica URLs, comma-separated in the environment.
    tgi_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Defaults live beside the code that uses them (one source); these fields refer to them.
    tgi_connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT
    tgi_first_token_timeout_seconds: float = DEFAULT_FIRST_TOKEN_TIMEOUT
    tgi_token_timeout_seconds: float = DEFAULT_TOKEN_TIMEOUT
    tgi_failures_before_out: int = PoolPolicy.max_failures
    tgi_probe_interval_seconds: float = PoolPolicy.probe_interval
    # Requests waiting while every replica is full: how many, and for how long each.
    tgi_queue_limit: int = PoolPolicy.queue_limit
    tgi_queue_timeout_seconds: float = PoolPolicy.queue_timeout
    # Without TGI URLs: the in-process model, a Hugging Face model id or a local folder.
    local_model: str = DEFAULT_LOCAL_MODEL

    # Conversation store: unset means the in-process store (nothing survives a restart).
    redis_url: SecretStr | None = None
    redis_namespace: str = "bloombridge"
    # Connections per process (store and rate limits each), and how long a call waits for one.
    redis_max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, gt=0)
    redis_pool_timeout_seconds: float = Field(default=DEFAULT_POOL_TIMEOUT_SECONDS, gt=0)

    # Generation (BLOOMChat's suggested sampling).
    max_new_tokens: int = Field(default=GenerationParams.max_new_tokens, gt=0)
    temperature: float = Field(default=GenerationParams.temperature, gt=0)
    top_p: float = Field(default=GenerationParams.top_p, gt=0, lt=1)
    repetition_penalty: float = Field(default=GenerationParams.repetition_penalty, gt=0)

    # Dialog.
    history_turns: int = Field(default=DialogConfig.history_turns, ge=0)
    history_ttl_seconds: int = Field(default=DialogConfig.history_ttl_seconds, gt=0)
    max_message_chars: int = Field(default=DialogConfig.max_message_chars, gt=0)

    # Safety (see README "Safety"): word lists always; a guard model when a URL is set.
    safety_enabled: bool = True
    safety_wordlists: bool = True
    safety_wordlist_dir: Path | None = None
    safety_guard_url: str | None = None
    safety_guard_api: Literal["tgi", "openai"] = "tgi"
    safety_guard_model_name: str = ""
    safety_guard_model: Literal["llama-guard-3", "llama-guard-3-1b", "qwen3guard"] = "llama-guard-3"
    safety_guard_api_token: SecretStr | None = None
    safety_guard_timeout_seconds: float = Field(default=10.0, gt=0)
    safety_local_model_path: Path | None = None
    safety_local_model_labels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    safety_block_categories: Annotated[list[str], NoDecode] | None = None
    safety_allow_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["specialized_advice", "politically_sensitive"]
    )
    safety_obscenity: Literal["block", "replies", "allow"] = "replies"
    safety_threshold: float = Field(default=0.8, ge=0, le=1)
    safety_screen_user_messages: bool = True
    safety_on_guard_unavailable: Literal["hold", "local"] = "hold"
    safety_log_text: bool = False
    safety_chunk_chars: int = Field(default=200, gt=0)
    repetition_guard: bool = True

    # Language (see README "Language"): which detector, and the streaming language guard.
    language_detector: Literal["default", "py3langid", "lingua", "langdetect"] = "default"
    language_guard: bool = True
    language_translate_drift: bool = True

    # Admission: `platform:id` entries (empty lists admit everyone); limits like "20/minute",
    # empty for none.
    allowed_senders: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_conversations: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_user: str = "20/minute"
    rate_limit_per_conversation: str = "60/minute"

    log_level: str = "INFO"

    # One group per chat platform (`BLOOMBRIDGE_<PLATFORM>_<NAME>`), read by its bots module.
    telegram: TelegramSettings = Field(default_factory=lambda: TelegramSettings())
    discord: DiscordSettings = Field(default_factory=lambda: DiscordSettings())

    @model_validator(mode="before")
    @classmethod
    def _group_platform_keys(cls, data: Any) -> Any:
        """Flat `telegram_token` keys (config file, keyword arguments) go into their group."""
        if not isinstance(data, dict):
            return data
        grouped = dict(data)
        for group in PLATFORM_GROUPS:
            prefix = f"{group}_"
            flat = {k[len(prefix) :]: v for k, v in data.items() if k.startswith(prefix)}
            if not flat:
                continue
            for key in flat:
                grouped.pop(f"{prefix}{key}")
            current = grouped.get(group) or {}
            if isinstance(current, BaseModel):
                current = current.model_dump()
            # Values already in the group (from the environment) win over flat ones.
            grouped[group] = {**flat, **dict(current)}
        return grouped

    @field_validator(
        "safety_local_model_labels",
        "safety_block_categories",
        "safety_allow_categories",
        mode="before",
    )
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("tgi_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [url.strip().rstrip("/") for url in value.split(",") if url.strip()]
        return value

    @field_validator("allowed_senders", "allowed_conversations", mode="before")
    @classmethod
    def _split_entries(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = _config_file.get() or os.environ.get(CONFIG_FILE_VARIABLE)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    def dialog_config(self) -> DialogConfig:
        """The core's view of these settings."""
        return DialogConfig(
            generation=GenerationParams(
                max_new_tokens=self.max_new_tokens,
                temperature=self.temperature,
                top_p=self.top_p,
                repetition_penalty=self.repetition_penalty,
            ),
            history_turns=self.history_turns,
            history_ttl_seconds=self.history_ttl_seconds,
            max_message_chars=self.max_message_chars,
        )


def load_settings(config_file: Path | None = None) -> Settings:
    """Read settings once; a malformed value becomes a ConfigurationError naming the field."""
    if config_file is not None and not config_file.is_file():
        raise ConfigurationError(f"config file {config_file} does not exist")
    # Handed to the source through a context variable: the process environment stays untouched.
    token = _config_file.set(str(config_file) if config_file is not None else None)
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"BLOOMBRIDGE_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
    finally:
        _config_file.reset(token)
