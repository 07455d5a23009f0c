"""The combination's fast scoring gives the probabilities of its feature matrix."""

from __future__ import annotations

import random

import numpy as np

from core.language.char_ngrams import MAX_CHARS, OTHER, NgramScores, shipped_model
from core.language.combination import (
    Opinions,
    features,
    opinions_needed,
    probabilities,
    stage_probabilities,
)
from core.language.combiner import shipped_combiner
from core.language.library_detectors import LIBRARY_LANGUAGES, Cld2Guess


def random_opinions(rng: random.Random, languages: tuple[str, ...]) -> Opinions:
    # CLD2 names each language once ("other" is among the model's languages).
    codes = [*languages, "de"]
    picked = rng.sample(codes, rng.randint(0, 3))
    shares = tuple(rng.random() for _ in picked)
    logits = np.array([rng.gauss(0, 5) for _ in languages], dtype=np.float32)
    ngrams = NgramScores(languages, logits, rng.choice((0, 40)))
    return Opinions(
        Cld2Guess(tuple(picked), shares, rng.random() < 0.5),
        ngrams,
        {code: rng.random() for code in rng.sample(codes, 5)},
        {code: rng.random() for code in rng.sample(codes, 4)},
    )


def test_stage_probabilities_equal_the_feature_matrix_ones() -> None:
    model = shipped_model()
    combiner = shipped_combiner()
    rng = random.Random(3)
    for _ in range(200):
        opinions = random_opinions(rng, model.languages)
        for candidates in combiner.candidates.values():
            for stage in combiner.stages:
                matrix = features(
                    opinions, candidates, stage.features, LIBRARY_LANGUAGES, model.languages
                )
                expected = probabilities(matrix, stage, candidates)
                found = stage_probabilities(opinions, candidates, stage, LIBRARY_LANGUAGES)
                np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-12)


def test_scoring_only_the_candidates_gives_their_logits() -> None:
    model = shipped_model()
    candidates = shipped_combiner().candidates["Latin"]
    text = "Abana bose bagomba kwiga amashuri abanza mu gihugu cyacu."
    every = model.scores(text)
    among = model.scores(text, among=candidates)
    assert among.languages == candidates
    positions = [model.languages.index(code) for code in candidates]
    np.testing.assert_allclose(among.logits, every.logits[positions], rtol=1e-5, atol=1e-4)


def test_each_stage_asks_only_the_models_its_features_read() -> None:
    assert opinions_needed(("cld2_top", "cld2_share", "ngram")) == ("cld2", "ngrams")
    assert opinions_needed(("py3langid", "py3langid_unknown", "lingua_unknown")) == (
        "py3langid",
        "lingua",
    )


def test_every_script_has_the_other_class() -> None:
    assert all(OTHER in codes for codes in shipped_combiner().candidates.values())


def test_the_ngram_model_reads_a_long_texts_last_characters() -> None:
    # A growing reply that turned to another language is read where it turned.
    model = shipped_model()
    french = "Nous avons marché le long du fleuve pendant toute la matinée, " * 6
    english = "and then we walked back home along the river before it got dark. " * 5
    text = french + english
    assert len(english) >= MAX_CHARS
    np.testing.assert_array_equal(model.scores(text).logits, model.scores(english).logits)
