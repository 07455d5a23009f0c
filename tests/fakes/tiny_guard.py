"""Tiny guard-model checkpoints: Llama Guard 3 and Qwen3Guard architectures, answering one verdict.

Each is a 2-layer model of the real architecture (`LlamaForCausalLM`, `Qwen3ForCausalLM`) with
the family's special tokens, a chat template and a byte-level BPE tokenizer trained on the
guard prompts. The weights are random except that the layers' output projections are zero, so
each position's hidden state is its own token's embedding, and the output layer maps a few
tokens to the next: greedy decoding after any prompt writes `answer`, then end of turn. Built
here, nothing downloaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.safety.base import Role
from core.safety.guard_formats import GuardFormat, LlamaGuard3, Qwen3Guard

CONTEXT_TOKENS = 8192
VOCAB_SIZE = 600
HIDDEN = 64
_PUSH = 40.0


@dataclass(frozen=True)
class Family:
    """What a guard family's checkpoint needs: tokens, template, architecture, prompt format."""

    name: str
    special_tokens: tuple[str, ...]
    bos: str | None
    eos: str
    chat_template: str
    guard_format: GuardFormat


LLAMA = Family(
    name="llama",
    special_tokens=(
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
    ),
    bos="<|begin_of_text|>",
    eos="<|eot_id|>",
    chat_template=(
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
        "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>{% endif %}"
    ),
    guard_format=LlamaGuard3(with_code_interpreter=False),
)
QWEN = Family(
    name="qwen",
    special_tokens=("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
    bos=None,
    eos="<|im_end|>",
    chat_template=(
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
        "<think>\n\n</think>\n\n{% endif %}"
    ),
    guard_format=Qwen3Guard(),
)


def _training_text(family: Family) -> list[str]:
    guard = family.guard_format
    return [
        guard.prompt("How do I bake bread?", Role.USER),
        guard.prompt("Use flour and water.", Role.ASSISTANT, "How do I bake bread?"),
    ]


def build_tokenizer(folder: Path, family: Family, answer: Sequence[str]) -> None:
    """A byte-level BPE tokenizer with the family's special tokens and the answer's pieces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(family.special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_training_text(family), trainer=trainer)
    # Each piece of the answer is one token, so a chain of next-token rules can spell it.
    tokenizer.add_tokens(list(answer))
    if family.bos is not None:
        bos_id = tokenizer.token_to_id(family.bos)
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{family.bos} $A", special_tokens=[(family.bos, bos_id)]
        )
    wrapped = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        bos_token=family.bos,
        eos_token=family.eos,
        model_max_length=CONTEXT_TOKENS,
    )
    wrapped.chat_template = family.chat_template
    wrapped.save_pretrained(folder)


def _config(family: Family, vocab_size: int, bos_id: Any, eos_id: Any) -> Any:
    from transformers import LlamaConfig, Qwen3Config

    common: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": HIDDEN,
        "intermediate_size": 2 * HIDDEN,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": CONTEXT_TOKENS,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "tie_word_embeddings": False,
    }
    if family is LLAMA:
        return LlamaConfig(**common)
    return Qwen3Config(head_dim=HIDDEN // 4, **common)


def build_model(folder: Path, family: Family, answer: Sequence[str], seed: int) -> None:
    """Random weights whose greedy continuation of any prompt is `answer`, then end of turn."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt_ids = tokenizer.encode(family.guard_format.prompt("hello", Role.USER))
    chain = [prompt_ids[-1], *(tokenizer.convert_tokens_to_ids(p) for p in answer)]
    chain.append(tokenizer.convert_tokens_to_ids(family.eos))
    bos_id = tokenizer.convert_tokens_to_ids(family.bos) if family.bos else None
    eos_id = tokenizer.convert_tokens_to_ids(family.eos)
    torch.manual_seed(seed)
    config = _config(family, len(tokenizer), bos_id, eos_id)
    model = AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        for layer in model.model.layers:
            # No layer adds to the residual stream: each hidden state is its token's embedding.
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        embeddings = model.model.embed_tokens.weight
        head = model.lm_head.weight
        head.zero_()
        for current, following in itertools.pairwise(chain):
            direction = embeddings[current] / embeddings[current].norm()
            head[following] += direction * _PUSH
    model.save_pretrained(folder)


def build_tiny_guard(folder: Path, family: Family, answer: Sequence[str]) -> Path:
    """Save the tokenizer and model of `family` answering `answer` into `folder`."""
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    build_tokenizer(folder, family, answer)
    build_model(folder, family, answer, seed=11)
    done.touch()
    return folder
