"""A tiny BLOOM checkpoint (random weights, trained byte-level BPE tokenizer) saved like a real one."""

from __future__ import annotations

from pathlib import Path

import pytest

# A few sentences in several scripts, so the byte-level merges cover more than ASCII.
TRAINING_SENTENCES = (
    "<human>: Hello, how are you today?\n<bot>: I am well, thank you. How can I help?</s>",
    "<human>: Bonjour, comment allez-vous ?\n<bot>: Très bien, merci. Que puis-je faire ?</s>",
    "<human>: ¿Dónde está la biblioteca?\n<bot>: La biblioteca está cerca de la plaza.</s>",
    "<human>: Habari za asubuhi?\n<bot>: Nzuri sana, asante kwa kuuliza.</s>",
    "<human>: नमस्ते, आप कैसे हैं?\n<bot>: मैं ठीक हूँ, धन्यवाद।</s>",
    "<human>: 你好，今天天气怎么样？\n<bot>: 今天天气很好。</s>",  # noqa: RUF001
    "<human>: مرحبا، كيف حالك؟\n<bot>: أنا بخير، شكرا لك.</s>",
    "The quick brown fox jumps over the lazy dog while the cat sleeps in the sun.",
)
# BLOOM's special tokens, in BLOOM's order: ids 0 to 3.
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>")
EOS_TOKEN_ID = 2
CONTEXT_TOKENS = 256
VOCAB_SIZE = 400
# How strongly the end-of-sequence logit is pushed: below every other logit, or above.
_EOS_PUSH = 10.0
_BIAS_NORM = 10.0


def build_tokenizer(folder: Path) -> None:
    """Train a byte-level BPE tokenizer on the sentences above and save it as a transformers one."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(TRAINING_SENTENCES, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        model_max_length=CONTEXT_TOKENS,
    )
    wrapped.save_pretrained(folder)


def build_model(folder: Path, *, vocab_size: int, ends_at_once: bool, seed: int = 7) -> None:
    """A 2-layer BLOOM with random weights whose end-of-sequence token never (or always) wins.

    The final layer norm gets a large bias along one direction and the end-of-sequence row of
    the output layer points against (or along) it, so its logit is far below (or above) every
    other whatever the input: generations run to their length limit (or end at once).
    """
    import torch
    from transformers import BloomConfig, BloomForCausalLM

    torch.manual_seed(seed)
    config = BloomConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        n_layer=2,
        n_head=4,
        # Real BLOOM configs state their context this way, as a key the class does not declare.
        seq_length=CONTEXT_TOKENS,  # type: ignore[call-arg]
        bos_token_id=1,
        eos_token_id=EOS_TOKEN_ID,
        pad_token_id=3,
        tie_word_embeddings=False,
    )
    model = BloomForCausalLM(config)
    with torch.no_grad():
        direction = torch.randn(config.hidden_size)
        direction /= direction.norm()
        model.transformer.ln_f.bias.copy_(direction * _BIAS_NORM)
        sign = 1.0 if ends_at_once else -1.0
        model.lm_head.weight[EOS_TOKEN_ID].copy_(direction * _EOS_PUSH * sign)
    model.save_pretrained(folder)


def build_tiny_bloom(folder: Path, *, ends_at_once: bool = False) -> Path:
    """Save tokenizer and model into `folder` (reused when a previous build completed)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    build_tokenizer(folder)
    from transformers import AutoTokenizer

    vocab_size = len(AutoTokenizer.from_pretrained(folder))
    build_model(folder, vocab_size=vocab_size, ends_at_once=ends_at_once)
    done.touch()
    return folder


@pytest.fixture(scope="session")
def tiny_bloom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny BLOOM checkpoint that writes until its token limit."""
    return build_tiny_bloom(tmp_path_factory.getbasetemp() / "tiny-bloom")


@pytest.fixture(scope="session")
def tiny_bloom_ending_at_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny BLOOM checkpoint whose first token is always end-of-sequence."""
    return build_tiny_bloom(tmp_path_factory.getbasetemp() / "tiny-bloom-eos", ends_at_once=True)
