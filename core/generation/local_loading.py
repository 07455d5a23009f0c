"""Finds, downloads and loads an in-process causal LM, reporting progress and explaining failures."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_LOCAL_MODEL = "bigscience/bloomz-560m"
# BLOOM was trained on 2048-token sequences; its config says so only as `seq_length`.
DEFAULT_CONTEXT_TOKENS = 2048
# Config attributes that name a model's context length, most specific first.
_CONTEXT_ATTRIBUTES = (
    "max_position_embeddings",
    "n_positions",
    "seq_length",
    "max_sequence_length",
)
# Tokenizers without a real limit report a huge sentinel as `model_max_length`.
_TOKENIZER_LIMIT_SENTINEL = 10**9

_REMEDY = (
    "set BLOOMBRIDGE_TGI_URLS to use a TGI cluster, "
    "or point BLOOMBRIDGE_LOCAL_MODEL at a local copy of the model"
)
# Weights in safetensors first; older repositories only have PyTorch pickles.
_CONFIG_PATTERNS = ["*.json", "*.txt", "*.model", "*.tiktoken"]
_SAFETENSORS_PATTERNS = [*_CONFIG_PATTERNS, "*.safetensors"]
_PICKLE_PATTERNS = [*_CONFIG_PATTERNS, "*.bin"]


@dataclass(frozen=True)
class LoadProgress:
    """One step of a model load: downloading (with byte counts), loading into memory, ready."""

    stage: Literal["download", "load", "ready"]
    model: str
    done_bytes: int = 0
    total_bytes: int = 0

    def describe(self) -> str:
        """A line a console can show."""
        if self.stage == "download":
            if self.total_bytes:
                percent = 100 * self.done_bytes // self.total_bytes
                return (
                    f"Downloading {self.model}: {_size(self.done_bytes)} of "
                    f"{_size(self.total_bytes)} ({percent}%)"
                )
            return f"Downloading {self.model}: {_size(self.done_bytes)}"
        if self.stage == "load":
            return f"Loading {self.model} into memory"
        return f"{self.model} is ready"


ProgressCallback = Callable[[LoadProgress], None]


@dataclass(frozen=True)
class LoadedModel:
    """A model and its tokenizer in memory, with the limits the prompt budget is built from."""

    name: str
    model: Any
    tokenizer: Any
    context_tokens: int
    device: str


def _size(count: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _failure(model: str, reason: str) -> ModelLoadError:
    return ModelLoadError(f"Cannot load the local model {model!r}: {reason}; {_REMEDY}.")


def _looks_like_path(model: str) -> bool:
    # Hub ids are "name" or "owner/name"; anything else that names the file system is a path.
    return model.startswith(("/", "./", "../", "~", ".\\")) or Path(model).expanduser().exists()


class _DownloadMeter:
    """Adds up the byte counters of the hub's progress bars into one download figure."""

    def __init__(self, model: str, report: ProgressCallback) -> None:
        self._model = model
        self._report = report
        self._lock = threading.Lock()
        self._bars: dict[int, tuple[float, float]] = {}
        self._finished = False

    def update(self, bar_id: int, done: float, total: float) -> None:
        # Reported under the lock so figures from several download threads arrive in order.
        with self._lock:
            if self._finished:
                return
            self._bars[bar_id] = (done, total)
            # The hub keeps a received-bytes and a written-bytes counter for the same files:
            # the larger of each is the best figure of how far the download is.
            done_bytes = max(int(d) for d, _ in self._bars.values())
            total_bytes = max(int(t) for _, t in self._bars.values())
            self._report(LoadProgress("download", self._model, done_bytes, total_bytes))

    def finish(self) -> None:
        """Ignore bars that redraw after the download (tqdm redraws when a bar is collected)."""
        with self._lock:
            self._finished = True

    def bar_class(self) -> type[Any]:
        """A tqdm class that reports byte bars to this meter and prints nothing."""
        from tqdm import tqdm  # type: ignore[import-untyped]

        meter = self

        class _ReportingBar(tqdm):  # type: ignore[misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["file"] = io.StringIO()
                kwargs["mininterval"] = 0.5
                kwargs.pop("name", None)
                super().__init__(*args, **kwargs)

            def display(self, msg: str | None = None, pos: int | None = None) -> bool:
                if self.unit == "B" and self.total:
                    meter.update(id(self), self.n, self.total)
                return True

        return _ReportingBar


def _snapshot(model: str, patterns: list[str], **options: Any) -> Path:
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(model, allow_patterns=patterns, **options))


def _download(
    model: str,
    *,
    cache_dir: Path | None,
    offline: bool,
    endpoint: str | None,
    report: ProgressCallback,
) -> Path:
    """The local folder of hub model `model`, downloaded (or found in the cache) first."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    meter = _DownloadMeter(model, report)
    options: dict[str, Any] = {
        "cache_dir": cache_dir,
        "local_files_only": offline,
        "endpoint": endpoint,
        "tqdm_class": meter.bar_class(),
    }
    try:
        folder = _snapshot(model, _SAFETENSORS_PATTERNS, **options)
        if not any(folder.glob("*.safetensors")):
            folder = _snapshot(model, _PICKLE_PATTERNS, **options)
    except HFValidationError as exc:
        raise _failure(model, "that is neither a folder nor a Hugging Face model id") from exc
    except GatedRepoError as exc:
        raise _failure(model, "the model is gated and this machine has no access to it") from exc
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise _failure(model, "there is no such model on the Hugging Face Hub") from exc
    except LocalEntryNotFoundError as exc:
        raise _failure(
            model, "it is not downloaded yet and cannot be downloaded now (no network or offline)"
        ) from exc
    except OSError as exc:
        raise _failure(model, f"the download failed ({exc.strerror or exc})") from exc
    finally:
        meter.finish()
    return folder


def _context_tokens(config: Any, tokenizer: Any) -> int:
    for attribute in _CONTEXT_ATTRIBUTES:
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _TOKENIZER_LIMIT_SENTINEL:
        return limit
    return DEFAULT_CONTEXT_TOKENS


def _load_from_folder(model: str, folder: Path, device: str | None) -> LoadedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (folder / "config.json").is_file():
        raise _failure(model, f"{folder} is not a model folder (it has no config.json)")
    chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # Half precision is slow or unsupported for some CPU kernels; GPUs take the stored dtype.
    dtype = torch.float32 if chosen == "cpu" else "auto"
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        network: Any = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
        network.to(chosen)
        network.eval()
    except MemoryError as exc:
        raise _failure(model, "there is not enough free memory to load it") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise _failure(
            model, f"its files are not a causal language model ({_first_line(exc)})"
        ) from exc
    except Exception as exc:  # torch, safetensors and model code raise many types of their own
        if "memory" in str(exc).lower():
            raise _failure(model, "there is not enough free memory to load it") from exc
        raise _failure(model, f"its files could not be loaded ({_first_line(exc)})") from exc
    return LoadedModel(
        name=model,
        model=network,
        tokenizer=tokenizer,
        context_tokens=_context_tokens(network.config, tokenizer),
        device=chosen,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_model(
    model: str,
    *,
    cache_dir: Path | None = None,
    offline: bool = False,
    endpoint: str | None = None,
    device: str | None = None,
    report: ProgressCallback | None = None,
) -> LoadedModel:
    """Load `model` (a folder, or a hub id downloaded on first use); blocking, run it off the loop.

    Raises ModelLoadError with one sentence saying what to do when the model cannot be had.
    """
    notify = report or (lambda _progress: None)
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelLoadError(
            "The local model needs the optional packages of bloombridge[local]: "
            "install them with pip install 'bloombridge[local]', or set BLOOMBRIDGE_TGI_URLS "
            "to use a TGI cluster."
        ) from exc
    if _looks_like_path(model):
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise _failure(model, "there is no such folder")
    else:
        logger.debug("fetching model %s (downloaded on first use)", model)
        folder = _download(
            model, cache_dir=cache_dir, offline=offline, endpoint=endpoint, report=notify
        )
    logger.debug("loading model %s from %s", model, folder)
    notify(LoadProgress("load", model))
    loaded = _load_from_folder(model, folder, device)
    logger.info(
        "model %s loaded on %s, context %d tokens", model, loaded.device, loaded.context_tokens
    )
    notify(LoadProgress("ready", model))
    return loaded
