"""Settings, read once from BLOOMBRIDGE_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bots.redaction import REDACTOR
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
from core.queue.worker import WorkerLimits
from core.redaction import without_userinfo
from core.store.redis import check_redis_url
from core.store.redis_pool import DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_TIMEOUT_SECONDS

CONFIG_FILE_VARIABLE = "BLOOMBRIDGE_CONFIG_FILE"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_config_file: ContextVar[str | None] = ContextVar("bloombridge_config_file", default=None)


def _secrets_in(model: BaseModel) -> list[str]:
    """The values of every SecretStr field of `model` and of the groups inside it."""
    values: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            values.extend(_secrets_in(value))
    return values


def _url_password(url: str) -> str | None:
    """The URL's password, decoded; the whole URL when it cannot be parsed."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return url
    return unquote(password) if password else None


class TelegramSettings(BaseModel):
    """`BLOOMBRIDGE_TELEGRAM_*`: the bot token from @BotFather and the Bot API server (self-
    hosted servers too); a webhook URL switches from long polling to webhook mode (secret
    required)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Loopback by default: the listener belongs behind a TLS-terminating proxy on this host.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    webhook_path: str = "telegram"

    @field_validator("api_url", "webhook_url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url:
            check_http_url(url)
        return url


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


class SlackSettings(BaseModel):
    """`BLOOMBRIDGE_SLACK_*`: the bot token (xoxb-, OAuth & Permissions); Socket Mode's
    app-level token (xapp-, with connections:write); HTTP mode (`run slack --http PORT`, or
    a port here) verifies every request with the signing secret. The Web API base URL is
    slack_sdk's `base_url` (a proxy); the slash command's name; native streaming (off:
    replies are posted and updated)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    http_port: int | None = Field(default=None, gt=0, lt=65536)
    http_listen: str = "0.0.0.0"
    command: str = "/bloombridge"
    streaming: bool = True

    @field_validator("api_url", mode="before")
    @classmethod
    def _slash_ended_url(cls, value: Any) -> Any:
        # slack_sdk joins method names onto base_url, which must end with "/".
        return value.strip().rstrip("/") + "/" if isinstance(value, str) else value


# The names of the per-platform groups below; each is a field of `Settings`.
PLATFORM_GROUPS = ("telegram", "discord", "slack")


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
    # Zero or less is refused: a probe interval of zero would make an idle bot spin.
    tgi_connect_timeout_seconds: float = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0)
    tgi_first_token_timeout_seconds: float = Field(default=DEFAULT_FIRST_TOKEN_TIMEOUT, gt=0)
    tgi_token_timeout_seconds: float = Field(default=DEFAULT_TOKEN_TIMEOUT, gt=0)
    tgi_failures_before_out: int = Field(default=PoolPolicy.max_failures, gt=0)
    tgi_probe_interval_seconds: float = Field(default=PoolPolicy.probe_interval, gt=0)
    # Requests waiting while every replica is full: how many, and for how long each.
    tgi_queue_limit: int = Field(default=PoolPolicy.queue_limit, ge=0)
    tgi_queue_timeout_seconds: float = Field(default=PoolPolicy.queue_timeout, gt=0)
    # Without TGI URLs: the in-process model, a Hugging Face model id or a local folder.
    local_model: str = DEFAULT_LOCAL_MODEL

    # Conversation store: unset means the in-process store (nothing survives a restart).
    redis_url: SecretStr | None = None
    redis_namespace: str = "bloombridge"
    # Connections per process (store and rate limits each), and how long a call waits for one.
    redis_max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, gt=0)
    redis_pool_timeout_seconds: float = Field(default=DEFAULT_POOL_TIMEOUT_SECONDS, gt=0)

    # Scale-out (`run <platform> --role ingress|worker`): Redis Streams between the roles.
    # Conversations are spread over this many streams; each is worked by one worker at a time.
    queue_partitions: int = Field(default=16, gt=0, le=1024)
    # A worker that stops renewing its partitions' leases loses them after this long.
    queue_lease_seconds: float = Field(default=WorkerLimits.lease_seconds, gt=0)
    # Replies one worker answers at once (one per conversation at a time, in order).
    worker_max_in_flight: int = Field(default=WorkerLimits.max_in_flight, gt=0)
    # A reply put off (every replica busy) or failed is tried again after this long.
    queue_retry_seconds: float = Field(default=WorkerLimits.retry_seconds, gt=0)
    # How long an ingress keeps trying to queue a message before refusing it.
    ingress_retry_seconds: float = Field(default=5.0, ge=0)

    # Generation (BLOOMChat's suggested sampling).
    max_new_tokens: int = Field(default=GenerationParams.max_new_tokens, gt=0)
    temperature: float = Field(default=GenerationParams.temperature, gt=0)
    top_p: float = Field(default=GenerationParams.top_p, gt=0, lt=1)
    repetition_penalty: float = Field(default=GenerationParams.repetition_penalty, gt=0)

    # Dialog.
    history_turns: int = Field(default=DialogConfig.history_turns, gt=0)
    history_ttl_seconds: int = Field(default=DialogConfig.history_ttl_seconds, gt=0)
    max_message_chars: int = Field(default=DialogConfig.max_message_chars, gt=0)

    # Safety (see README "Safety"): word lists always; a guard model when a URL is set.
    safety_enabled: bool = True
    safety_wordlists: bool = True
    safety_wordlist_dir: Path | None = None
    safety_guard_url: str | None = None
    safety_guard_api: Literal["tgi", "openai", "local"] = "tgi"
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
    language_detector: Literal["default", "cld2", "py3langid", "lingua", "langdetect"] = "default"
    language_guard: bool = True
    language_translate_drift: bool = True

    # Admission: `platform:id` entries (empty lists admit everyone); limits like "20/minute",
    # empty for none.
    allowed_senders: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_conversations: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_user: str = "20/minute"
    rate_limit_per_conversation: str = "60/minute"

    log_level: str = "INFO"
    # Message text and user names reach the log (from any library, at any level) only when set.
    log_message_text: bool = False
    # `json` for one JSON object per line (log collectors), `text` for people reading a terminal.
    log_format: Literal["text", "json"] = "text"

    # Operations endpoints of `bloombridge run`: /healthz, /readyz, /metrics; no port, no server.
    ops_listen: str = "127.0.0.1"
    ops_port: int | None = Field(default=None, ge=0, lt=65536)

    # One group per chat platform (`BLOOMBRIDGE_<PLATFORM>_<NAME>`), read by its bots module.
    telegram: TelegramSettings = Field(default_factory=lambda: TelegramSettings())
    discord: DiscordSettings = Field(default_factory=lambda: DiscordSettings())
    slack: SlackSettings = Field(default_factory=lambda: SlackSettings())

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

    @field_validator("tgi_urls")
    @classmethod
    def _check_tgi_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            check_http_url(url)
        return urls

    @field_validator("safety_guard_url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url:
            check_http_url(url)
        return url

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None:
            try:
                check_redis_url(url.get_secret_value())
            except ConfigurationError as exc:
                raise ValueError(str(exc)) from exc
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, level: Any) -> Any:
        if isinstance(level, str):
            level = level.strip().upper()
            if level not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = _config_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    def secret_values(self) -> list[str]:
        """Every secret setting's value, for redaction.

        Of the Redis URL only the password is secret: its host and database stay readable in
        error lines, which is what an operator needs to fix a connection.
        """
        values = [
            value
            for value in _secrets_in(self)
            if self.redis_url is None or value != self.redis_url.get_secret_value()
        ]
        if self.redis_url is not None:
            password = _url_password(self.redis_url.get_secret_value())
            if password:
                values.append(password)
        return values

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


def check_http_url(url: str) -> None:
    """An http(s) URL with a host and a valid port; raises ValueError saying what is wrong.

    The message shows the URL without its user name and password.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port  # reading the port validates it
    except ValueError as exc:
        raise ValueError(f"{without_userinfo(url)} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{without_userinfo(url)} is not an http:// or https:// URL with a host")


def _config_file_to_read(config_file: Path | None) -> Path | None:
    """The file named by --config or BLOOMBRIDGE_CONFIG_FILE; a named file must exist."""
    if config_file is None:
        named = os.environ.get(CONFIG_FILE_VARIABLE)
        if not named:
            return None
        config_file, origin = Path(named), f"{CONFIG_FILE_VARIABLE} names"
    else:
        origin = "the config file"
    if not config_file.is_file():
        raise ConfigurationError(f"{origin} {config_file}, which does not exist")
    return config_file


def _describe(error: ErrorDetails) -> str:
    field = "_".join(str(part) for part in error["loc"]).upper()
    message = error["msg"].removeprefix("Value error, ")
    return f"BLOOMBRIDGE_{field}: {message}"


def load_settings(config_file: Path | None = None) -> Settings:
    """Read settings once; a malformed value or file becomes a ConfigurationError saying which.

    The secrets read are handed to the log and error-line redaction at once.
    """
    to_read = _config_file_to_read(config_file)
    # Handed to the source through a context variable: the process environment stays untouched.
    token = _config_file.set(str(to_read) if to_read is not None else None)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigurationError(f"invalid settings: {problems}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"the config file {to_read} is not valid TOML: {exc}") from exc
    except SettingsError as exc:
        raise ConfigurationError(f"invalid settings: {exc}") from exc
    finally:
        _config_file.reset(token)
    REDACTOR.remember(*settings.secret_values())
    return settings
