"""The local text-classification classifier on a tiny model the test builds and saves."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.safety import categories as cat
from core.safety.base import Role
from core.safety.local_model import TextClassificationModel, parse_label_map

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "you", "are", "nice", "awful"]


def build_model(folder: Path, *, toxic_bias: float) -> Path:
    """A one-layer BERT whose classifier head always prefers one label by `toxic_bias`."""
    vocab = {word: index for index, word in enumerate(WORDS)}
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=16,
        max_position_embeddings=32,
        num_labels=2,
        id2label={0: "neutral", 1: "toxic"},
        label2id={"neutral": 0, "toxic": 1},
    )
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, toxic_bias]))
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


async def test_model_labels_become_categories(tmp_path: Path) -> None:
    folder = build_model(tmp_path / "toxic", toxic_bias=6.0)
    async with TextClassificationModel(folder, {"toxic": cat.HATE}) as classifier:
        verdict = await classifier.classify("you are awful", language="en", role=Role.ASSISTANT)
    assert set(verdict.categories) == {cat.HATE}
    assert verdict.categories[cat.HATE] > 0.99


async def test_unmapped_labels_are_ignored(tmp_path: Path) -> None:
    folder = build_model(tmp_path / "calm", toxic_bias=-6.0)
    async with TextClassificationModel(folder, {"toxic": cat.HATE}) as classifier:
        verdict = await classifier.classify("you are nice", language="en", role=Role.USER)
    assert verdict.categories[cat.HATE] < 0.01  # below any sensible threshold


async def test_missing_model_folder_is_a_configuration_error(tmp_path: Path) -> None:
    classifier = TextClassificationModel(tmp_path / "nowhere", {"toxic": cat.HATE})
    with pytest.raises(ConfigurationError, match="does not exist"):
        await classifier.classify("hi", language="en", role=Role.USER)


def test_label_map_parsing() -> None:
    assert parse_label_map(["toxic=hate", " obscene = obscenity "]) == {
        "toxic": cat.HATE,
        "obscene": cat.OBSCENITY,
    }
    with pytest.raises(ConfigurationError):
        parse_label_map(["toxic=rude"])
