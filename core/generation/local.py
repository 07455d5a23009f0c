"""`LocalGenerator`: a Hugging Face causal LM run in this process, streamed like a TGI replica."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from core.errors import GenerationError, ModelError, ValidationError
from core.generation.base import GenerationParams, ModelInfo, Token
from core.generation.local_loading import (
    DEFAULT_LOCAL_MODEL,
    LoadedModel,
    LoadProgress,
    ProgressCallback,
    load_model,
)
from core.generation.streaming import StreamingBackend

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
# How long a closed stream waits for the generation thread to notice: one model step.
_STOP_WAIT_SECONDS = 30.0


async def _in_daemon_thread(work: Callable[[], _T]) -> _T:
    """Run blocking `work` off the loop in a daemon thread.

    Unlike the loop's default executor, a daemon thread never holds up interpreter exit: a
    user who interrupts a multi-minute download gets their prompt back at once.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[_T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            loop.call_soon_threadsafe(outcome)

    def fail(error: BaseException) -> None:
        if not done.done():
            done.set_exception(error)

    def succeed(value: _T) -> None:
        if not done.done():
            done.set_result(value)

    def target() -> None:
        try:
            value = work()
        except BaseException as exc:
            settle(functools.partial(fail, exc))
        else:
            settle(functools.partial(succeed, value))

    threading.Thread(target=target, name="bloombridge-local-model", daemon=True).start()
    return await done


class LocalGenerator(StreamingBackend):
    """A `TextGenerator` backed by an in-process model (CPU, or a GPU when present).

    `start()` (or `async with`) loads the model off the event loop, downloading it on first use
    and reporting progress to `on_progress` on the loop; failures raise ModelLoadError with one
    sentence saying what to do. Each `stream` runs `generate` in a thread of its own, one at a
    time; closing the stream sets an event a stopping criterion watches, so the thread ends
    after the current step.
    """

    def __init__(
        self,
        model: str = DEFAULT_LOCAL_MODEL,
        *,
        cache_dir: Path | None = None,
        offline: bool = False,
        hub_endpoint: str | None = None,
        device: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.model = model
        self._cache_dir = cache_dir
        self._offline = offline
        self._hub_endpoint = hub_endpoint
        self._device = device
        self._on_progress = on_progress
        self._loaded: LoadedModel | None = None
        self._start_lock = asyncio.Lock()
        # One generation at a time: parallel ones would only share the same cores more slowly.
        self._generation_gate = asyncio.Lock()
        # One long-lived thread runs every generation: torch pays its per-thread start-up costs
        # once, not per reply (a fresh thread per reply halves the tiny model's speed).
        self._generation_thread: ThreadPoolExecutor | None = None
        self.tokens_generated = 0

    async def start(self) -> None:
        """Load the model (idempotent); raises ModelLoadError when it cannot be had."""
        async with self._start_lock:
            if self._loaded is not None:
                return
            loop = asyncio.get_running_loop()
            report = self._on_progress

            def on_thread(progress: LoadProgress) -> None:
                if report is not None:
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(report, progress)

            if self._generation_thread is None:
                self._generation_thread = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="bloombridge-generation"
                )
            self._loaded = await _in_daemon_thread(
                lambda: load_model(
                    self.model,
                    cache_dir=self._cache_dir,
                    offline=self._offline,
                    endpoint=self._hub_endpoint,
                    device=self._device,
                    report=on_thread,
                )
            )

    async def aclose(self) -> None:
        """Release the model; generations still running stop when their readers close them."""
        self._loaded = None
        if self._generation_thread is not None:
            self._generation_thread.shutdown(wait=False, cancel_futures=True)
            self._generation_thread = None

    async def __aenter__(self) -> LocalGenerator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _require(self) -> LoadedModel:
        if self._loaded is None:
            raise GenerationError(f"the local model {self.model} is not loaded (call start())")
        return self._loaded

    async def info(self) -> ModelInfo:
        """Limits from the model's own config: its context, less one token for the reply."""
        loaded = self._require()
        return ModelInfo(
            model_id=loaded.name,
            max_input_tokens=loaded.context_tokens - 1,
            max_total_tokens=loaded.context_tokens,
        )

    async def tokenize(self, text: str) -> Sequence[int]:
        """Token ids exactly as the prompt will be encoded for the model."""
        return self._encode(self._require(), text)

    @staticmethod
    def _encode(loaded: LoadedModel, text: str) -> list[int]:
        ids: list[int] = loaded.tokenizer.encode(text)
        return ids

    async def _raw_tokens(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[Token, None]:
        from core.generation.local_bridge import (
            BridgeEvent,
            GenerationFinished,
            GenerationJob,
            run_generation,
        )

        loaded = self._require()
        input_ids = self._encode(loaded, prompt)
        room = loaded.context_tokens - len(input_ids)
        if room < 1:
            raise ValidationError(
                f"the prompt has {len(input_ids)} tokens but the model reads at most "
                f"{loaded.context_tokens - 1}"
            )
        job = GenerationJob(input_ids, params, max_new_tokens=min(params.max_new_tokens, room))
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[BridgeEvent] = asyncio.Queue()
        cancel = threading.Event()

        def deliver(event: BridgeEvent) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, event)
            except RuntimeError:
                cancel.set()  # the loop is gone: nobody reads, stop generating

        async with self._generation_gate:
            worker = loop.run_in_executor(
                self._generation_thread,
                functools.partial(
                    run_generation, loaded.model, loaded.tokenizer, job, deliver, cancel
                ),
            )
            try:
                while True:
                    event = await events.get()
                    if isinstance(event, GenerationFinished):
                        break
                    if isinstance(event, ValueError):
                        # transformers checks sampling parameters before the first step.
                        raise ValidationError(f"local generation refused: {event}") from event
                    if isinstance(event, BaseException):
                        raise ModelError(f"local generation failed: {event}") from event
                    yield event
            finally:
                cancel.set()
                await self._wait_for_worker(worker)

    async def _wait_for_worker(self, worker: asyncio.Future[int]) -> None:
        done, _ = await asyncio.wait({worker}, timeout=_STOP_WAIT_SECONDS)
        if not done:
            logger.warning("local generation did not stop within %.0f s", _STOP_WAIT_SECONDS)
            return
        failed = worker.cancelled() or worker.exception() is not None
        generated = 0 if failed else worker.result()
        self.tokens_generated += generated

    @property
    def loaded(self) -> LoadedModel | None:
        """The model in memory, once started (benchmarks call it directly)."""
        return self._loaded


def describe_progress(write: Callable[[str], Any]) -> ProgressCallback:
    """A progress callback writing one line per stage and per 10 % of a download."""
    last: dict[str, Any] = {"stage": None, "tenth": -1}

    def report(progress: LoadProgress) -> None:
        tenth = 10 * progress.done_bytes // progress.total_bytes if progress.total_bytes else -1
        if progress.stage == last["stage"] and tenth == last["tenth"]:
            return
        last["stage"], last["tenth"] = progress.stage, tenth
        write(progress.describe())

    return report
