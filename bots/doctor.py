"""`bloombridge doctor`: checks the settings, every TGI replica, Redis and the safety setup."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import try_to_load_from_cache

from bots.doctor_settings import (
    check_guard_model,
    check_rate_limits,
    check_safety_categories,
    check_word_lists,
)
from bots.findings import Finding
from bots.redaction import REDACTOR
from bots.settings import Settings, load_settings
from bots.wiring import build_store
from core.errors import BloombridgeError
from core.generation.tgi import TgiGenerator
from core.store.redis import RedisStore


async def check_replica(url: str, settings: Settings) -> Finding:
    """Health and limits of one TGI replica, and whether the reply budget fits its limits."""
    async with TgiGenerator(
        url,
        connect_timeout=settings.tgi_connect_timeout_seconds,
        request_timeout=settings.tgi_connect_timeout_seconds,
    ) as replica:
        subject = f"TGI replica {replica.url}"
        if not await replica.health():
            return Finding(
                False, subject, "/health does not answer 200: is the server up and ready?"
            )
        try:
            info = await replica.info()
        except BloombridgeError as exc:
            return Finding(False, subject, f"/info failed: {exc}")
    if settings.max_new_tokens >= info.max_total_tokens:
        detail = (
            f"BLOOMBRIDGE_MAX_NEW_TOKENS={settings.max_new_tokens} leaves no room for a prompt "
            f"within max_total_tokens={info.max_total_tokens}"
        )
        return Finding(False, subject, detail)
    detail = (
        f"healthy, model {info.model_id or '(unnamed)'}, max_input_tokens={info.max_input_tokens}, "
        f"max_total_tokens={info.max_total_tokens}"
    )
    return Finding(True, subject, detail)


def check_local_backend(model: str) -> Finding:
    """Without TGI the in-process model is used: it needs the `local` extra and the model."""
    subject = f"in-process model {model}"
    if (
        importlib.util.find_spec("transformers") is None
        or importlib.util.find_spec("torch") is None
    ):
        return Finding(
            False,
            subject,
            "no BLOOMBRIDGE_TGI_URLS and the in-process model needs `pip install bloombridge[local]`",
        )
    folder = Path(model).expanduser()
    if folder.is_dir():
        if (folder / "config.json").is_file():
            return Finding(True, subject, "a local model folder; used as there is no TGI URL")
        return Finding(False, subject, f"{folder} is not a model folder (it has no config.json)")
    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return Finding(True, subject, "in the Hugging Face cache; used as there is no TGI URL")
    return Finding(
        True,
        subject,
        "not downloaded yet: the first `bloombridge chat` downloads it (needs network)",
    )


async def check_store(settings: Settings) -> Finding:
    """Whether Redis answers, or a note that state lives in memory."""
    if settings.redis_url is None:
        return Finding(
            True, "store", "in-process (set BLOOMBRIDGE_REDIS_URL to keep state in Redis)"
        )
    store = build_store(settings)
    assert isinstance(store, RedisStore)
    try:
        async with store:
            await store.ping()
    except BloombridgeError as exc:
        return Finding(False, "Redis", str(exc))
    return Finding(True, "Redis", "answers PING")


async def diagnose(settings: Settings) -> list[Finding]:
    """Every check, replicas in parallel."""
    if settings.tgi_urls:
        model_checks = await asyncio.gather(
            *(check_replica(u, settings) for u in settings.tgi_urls)
        )
        findings = list(model_checks)
    else:
        findings = [check_local_backend(settings.local_model)]
    findings.append(await check_store(settings))
    findings += [check_rate_limits(settings), check_safety_categories(settings)]
    findings.append(check_word_lists(settings))
    guard = await check_guard_model(settings)
    if guard is not None:
        findings.append(guard)
    return findings


def run_doctor(settings: Settings, write: Callable[[str], Any]) -> int:
    """Print one line per check; exit code 0 when everything is ok, else 1."""
    findings = asyncio.run(diagnose(settings))
    for finding in findings:
        write(finding.line())
    return 0 if all(finding.ok for finding in findings) else 1


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(
        "ok    settings: read from the environment" + (f" and {args.config}" if args.config else "")
    )
    # URLs in the findings may carry credentials: the lines pass the redaction layer too.
    return run_doctor(settings, lambda line: print(REDACTOR.redact(line)))


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `doctor` subcommand."""
    parser = subparsers.add_parser(
        "doctor", help="check settings, TGI replicas, Redis, rate limits and safety"
    )
    parser.set_defaults(handler=_run)


if __name__ == "__main__":
    sys.exit(run_doctor(load_settings(), print))
