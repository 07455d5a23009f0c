"""The generation thread's side of the local model: decodes tokens as `generate` makes them.

Imported only once the `local` extra is installed: it needs torch and transformers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from threading import Event
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from core.generation.base import GenerationParams, Token

# An incomplete UTF-8 sequence decodes to this: wait for the next byte-level token.
_REPLACEMENT = "\ufffd"


class GenerationFinished:
    """Marks the end of a generation's events (after its final token, or after an error)."""


BridgeEvent = Token | BaseException | GenerationFinished
Deliver = Callable[[BridgeEvent], None]


class CancelWatch(StoppingCriteria):
    """Stops `generate` after the current step once `cancel` is set (the reader went away)."""

    def __init__(self, cancel: Event) -> None:
        self._cancel = cancel

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        return torch.full(
            (input_ids.shape[0],), self._cancel.is_set(), dtype=torch.bool, device=input_ids.device
        )


class TokenBridge(BaseStreamer):
    """Turns the ids `generate` streams into Tokens of text, each delivered as soon as it exists.

    Byte-level tokens may end inside a UTF-8 character; such text is held back until the next
    token completes it (the offsets technique TGI uses). The token that ends the generation
    carries `finish_reason`: "eos_token" or "length".
    """

    def __init__(
        self,
        tokenizer: Any,
        deliver: Deliver,
        *,
        max_new_tokens: int,
        end_ids: Collection[int],
        special_ids: Collection[int],
    ) -> None:
        self._tokenizer = tokenizer
        self._deliver = deliver
        self._max_new_tokens = max_new_tokens
        self._end_ids = frozenset(end_ids)
        self._special_ids = frozenset(special_ids)
        self._prompt_seen = False
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0
        self._finished = False
        self.generated = 0

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            # `generate` first hands over the prompt ids.
            self._prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            self._accept(int(token_id))

    def end(self) -> None:
        if not self._finished:
            # Ended for another reason than ours (e.g. the model's own generation config).
            reason = "length" if self.generated >= self._max_new_tokens else "eos_token"
            self._finish(Token(text=self._rest(), finish_reason=reason))

    def _accept(self, token_id: int) -> None:
        if self._finished:
            return
        self.generated += 1
        if token_id in self._end_ids:
            rest = self._rest()
            if rest:
                self._deliver(Token(text=rest))
            self._finish(Token(text="", id=token_id, special=True, finish_reason="eos_token"))
            return
        special = token_id in self._special_ids
        text = "" if special else self._decode_next(token_id)
        if self.generated >= self._max_new_tokens:
            self._finish(
                Token(
                    text=text + self._rest(), id=token_id, special=special, finish_reason="length"
                )
            )
            return
        self._deliver(Token(text=text, id=token_id, special=special))

    def _decode_next(self, token_id: int) -> str:
        self._ids.append(token_id)
        before = self._decode(self._ids[self._prefix_offset : self._read_offset])
        after = self._decode(self._ids[self._prefix_offset :])
        if len(after) > len(before) and not after.endswith(_REPLACEMENT):
            self._prefix_offset = self._read_offset
            self._read_offset = len(self._ids)
            return after[len(before) :]
        return ""

    def _rest(self) -> str:
        """Text held back so far (an incomplete character stays as the replacement mark)."""
        before = self._decode(self._ids[self._prefix_offset : self._read_offset])
        after = self._decode(self._ids[self._prefix_offset :])
        self._prefix_offset = self._read_offset = len(self._ids)
        return after[len(before) :]

    def _decode(self, ids: Sequence[int]) -> str:
        text: str = self._tokenizer.decode(
            ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
        )
        return text

    def _finish(self, token: Token) -> None:
        self._finished = True
        self._deliver(token)


@dataclass(frozen=True)
class GenerationJob:
    """Everything one call of `generate` needs, prepared on the event loop."""

    input_ids: list[int]
    params: GenerationParams
    max_new_tokens: int


def end_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Ids that end a generation: the model's generation config's and the tokenizer's."""
    found: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        found.add(configured)
    elif isinstance(configured, list):
        found.update(int(value) for value in configured)
    if isinstance(tokenizer.eos_token_id, int):
        found.add(tokenizer.eos_token_id)
    return found


def sampling_arguments(params: GenerationParams) -> dict[str, Any]:
    """transformers `generate` arguments for `params`: sampling as TGI does it, greedy at 0."""
    arguments: dict[str, Any] = {
        "do_sample": False,
        "repetition_penalty": params.repetition_penalty,
    }
    if params.temperature > 0:
        # top_k=0: no top-k cut, as on TGI (transformers would otherwise apply 50).
        arguments |= {
            "do_sample": True,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": 0,
        }
    return arguments


def run_generation(
    model: Any, tokenizer: Any, job: GenerationJob, deliver: Deliver, cancel: Event
) -> int:
    """Generate for `job` on this thread, delivering tokens, then GenerationFinished.

    Errors are delivered rather than raised, followed by GenerationFinished; returns the number
    of tokens the model produced.
    """
    end_ids = end_token_ids(model, tokenizer)
    bridge = TokenBridge(
        tokenizer,
        deliver,
        max_new_tokens=job.max_new_tokens,
        end_ids=end_ids,
        special_ids=tokenizer.all_special_ids,
    )
    params = job.params
    try:
        if cancel.is_set():
            return 0
        if params.seed is not None:
            torch.manual_seed(params.seed)
        device = next(model.parameters()).device
        input_ids = torch.tensor([job.input_ids], dtype=torch.long, device=device)
        with torch.inference_mode():
            model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=job.max_new_tokens,
                streamer=bridge,
                stopping_criteria=StoppingCriteriaList([CancelWatch(cancel)]),
                eos_token_id=sorted(end_ids) or None,
                pad_token_id=tokenizer.pad_token_id
                if tokenizer.pad_token_id is not None
                else next(iter(end_ids), 0),
                **sampling_arguments(params),
            )
    except Exception as exc:  # handed to the reader, who raises it on its side
        deliver(exc)
    finally:
        deliver(GenerationFinished())
    return bridge.generated
