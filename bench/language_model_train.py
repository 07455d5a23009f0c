"""Train the character n-gram model and fit the detector combination on openly licensed text.

Run (the sources are listed in core/data/language/SOURCES.md, with how to obtain each):
    .venv/bin/python -m bench.language_model_train --data ../shared/eval/langid \\
        --udhr DIR_WITH_UDHR_XML --kirundi KIRUNDI_DATASET_METADATA_CSV \\
        --za-lid DIR_WITH_Csv_Train_test_split

Writes core/data/language/char_ngrams.npz (the n-gram model, `bench/language_ngram_train.py`)
and combiner.json, and prints the accuracy/coverage curve of the fitted combination on the
tuning part and the naming threshold the issue's criterion chooses on it
(`bench/language_threshold.py`; `--min-confidence` gives the one `bench.language_eval --curve`
chooses on the dev part instead). The n-gram scores the combination is fitted
on are out of fold: each comes from a model trained without that text.
Only the tuning part of the shared data is read (see bench/language_data.py); dev is left for
bench/language_eval.py.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import pickle
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.language_data import load_part
from bench.language_neighbour_train import fit_groups, neighbour_models, refined
from bench.language_ngram_train import (
    BITS,
    CLASS_POWER,
    CROP_WORDS,
    EPOCHS,
    LEARNING_RATE,
    LONGEST,
    WEIGHT_DECAY,
    Example,
    buckets_of,
    fit,
    with_crops,
)
from bench.language_threshold import CRITERION, Answer, Point, choose
from bench.language_threshold import curve as threshold_curve
from core.language.char_ngrams import NEIGHBOURS_FILE, OTHER, WEIGHTS_FILE, CharNgramModel
from core.language.combination import (
    STAGE_FEATURES,
    TRUSTED_FEATURES,
    Opinions,
    StageWeights,
    features,
    probabilities,
)
from core.language.combiner import COMBINER_FILE, Combiner
from core.language.languages import BY_CODE, UNDETERMINED, reply_language
from core.language.library_detectors import (
    LIBRARY_LANGUAGES,
    Cld2Guess,
    cld2_guess,
    lingua_distribution,
    py3langid_distribution,
)

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "core" / "data" / "language"
FOLDS = 4
SHARED_SCRIPTS = ("Latin", "Arabic", "Devanagari", "Bengali")
# A wrong language costs this many "not sure" answers when the stage exits are chosen.
WRONG_COST = 3.0
# Stage 1 may answer alone while the combination loses at most this share of its score.
STAGE_EXIT_SLACK = 0.001

# UDHR translations in languages outside BLOOM that teach the "other" class. Close relatives of
# BLOOM languages (Dyula and Maninka of Bambara, Nyankore of Kinyarwanda, Swati and Ndebele of
# Zulu, Lozi of Sesotho, Galician of Portuguese, Nigerian Pidgin of English) are left out: they
# would teach the model to refuse BLOOM text. Malay is left out for the same reason: standard
# Malay and Indonesian are one language with two norms, and Malay text in "other" made the model
# refuse plain Indonesian.
OTHER_UDHR = [
    "deu_1996",
    "nld",
    "ita",
    "afr",
    "hau_NG",
    "som",
    "tgl",
    "tur",
    "pol",
    "swe",
    "jav",
    "ceb",
    "ewe",
    "bem",
    "lua",
    "kmb",
    "umb",
    "ven",
    "sag",
    "mos",
    "gaa",
    "tiv",
    "plt",
    "smo",
    "mri",
    "quz",
    "epo",
    "lat",
    "ces",
    "hun",
    "fin",
    "est",
    "dan",
    "cym",
    "gle",
    "ron_2006",
    "hat_kreyol",
    "tuk_latn",
    "uzn_latn",
    "azj_latn",
    "pes_1",
    "pbu",
    "ckb",
    "uig_arab",
    "san",
]


def shared_script(code: str) -> str | None:
    entry = BY_CODE.get(code)
    return entry.script if entry and entry.script in SHARED_SCRIPTS else None


def udhr_sentences(path: Path) -> list[str]:
    """The sentences of one UDHR in Unicode XML file (`<para>` elements split at full stops)."""
    root = ElementTree.parse(path).getroot()
    found: list[str] = []
    for element in root.iter():
        if element.tag.endswith("para") and element.text:
            parts = re.split(r"(?<=[.!?\u0964\u06d4])\s+", " ".join(element.text.split()))
            found.extend(part for part in parts if len(part) > 10)
    return found


def kirundi_lines(path: Path) -> list[str]:
    """The Kirundi transcriptions of the Kirundi Open Speech & Text Dataset's metadata.csv."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        return [
            row["Kirundi_Transcription"].strip()
            for row in rows
            if len(row.get("Kirundi_Transcription", "").strip()) > 10
        ]


# The South African languages of the DSFSI za-lid data (Vuk'uzenzele sentences) that BLOOM has
# and the first model confuses with one another, by the data's folder names.
ZA_LID_LANGUAGES = {"nso": "nso", "sot": "st", "tsn": "tn", "xho": "xh", "zul": "zu"}
# Shorter lines of that data are mostly headings and captions ("vukuzenzele unnamed").
ZA_LID_MIN_WORDS = 4


def za_lid_lines(folder: Path, name: str) -> list[str]:
    """The sentences of one language of the za-lid data (`<name>/{train,dev,test}.csv`)."""
    found = []
    for part in ("train", "dev", "test"):
        with (folder / name / f"{part}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                text = " ".join(row["sentence"].split())
                if len(text.split()) >= ZA_LID_MIN_WORDS:
                    found.append(text)
    return found


def gather(
    data: Path, udhr: Path | None, kirundi: Path | None, za_lid: Path | None = None
) -> list[Example]:
    """Tuning lines of the shared-script languages, extra Kirundi, isiXhosa, isiZulu and
    Sotho-Tswana text, and "other" text."""
    examples = [
        Example(reply_language(item.language), item.text, item.kind)
        for item in load_part(data, "tuning")
        if shared_script(item.language)
    ]
    if kirundi is not None:
        seen = {example.text for example in examples}
        examples += [
            Example("rn", line, "sentence")
            for line in dict.fromkeys(kirundi_lines(kirundi))
            if line not in seen
        ]
    if za_lid is not None:
        seen = {example.text for example in examples}
        for name, code in ZA_LID_LANGUAGES.items():
            examples += [
                Example(code, line, "sentence")
                for line in dict.fromkeys(za_lid_lines(za_lid, name))
                if line not in seen
            ]
    if udhr is not None:
        for key in OTHER_UDHR:
            path = udhr / f"udhr_{key}.xml"
            if path.exists():
                examples += [Example(OTHER, line, "sentence") for line in udhr_sentences(path)]
    return examples


def fold_of(text: str) -> int:
    return hashlib.md5(text.encode("utf-8")).digest()[0] % FOLDS


def out_of_fold_models(
    examples: Sequence[Example], languages: tuple[str, ...], class_power: float = CLASS_POWER
) -> tuple[CharNgramModel, list[CharNgramModel], list[int]]:
    """The final model on everything, and one model per fold trained without that fold.

    Each model also learns from short crops of its sentences; a crop is in its sentence's fold.
    """
    grown, origin = with_crops(examples)
    buckets = buckets_of(grown)
    folds = [fold_of(example.text) for example in examples]
    final = fit(grown, languages, buckets, class_power)
    per_fold = []
    for fold in range(FOLDS):
        keep = [i for i, source in enumerate(origin) if folds[source] != fold]
        kept = [grown[i] for i in keep]
        per_fold.append(fit(kept, languages, [buckets[i] for i in keep], class_power))
        print(f"n-gram model without fold {fold} trained", flush=True)
    return final, per_fold, folds


def cached_models(
    examples: Sequence[Example],
    languages: tuple[str, ...],
    cache: Path | None,
    class_power: float = CLASS_POWER,
) -> tuple[CharNgramModel, list[CharNgramModel], list[int]]:
    """`out_of_fold_models`, kept beside the libraries' cache for reruns on the same texts."""
    settings: tuple[object, ...] = (
        BITS,
        LONGEST,
        EPOCHS,
        LEARNING_RATE,
        WEIGHT_DECAY,
        CROP_WORDS,
        languages,
    )
    if class_power != CLASS_POWER:
        settings += (class_power,)
    digest = hashlib.sha1(repr((settings, [(e.label, e.text) for e in examples])).encode())
    path = cache.with_suffix(f".models-{digest.hexdigest()[:12]}.pkl") if cache else None
    if path is not None and path.exists():
        found: tuple[CharNgramModel, list[CharNgramModel], list[int]] = pickle.loads(
            path.read_bytes()
        )
        return found
    models = out_of_fold_models(examples, languages, class_power)
    if path is not None:
        path.write_bytes(pickle.dumps(models))
    return models


def fit_stage(
    matrices: Sequence[npt.NDArray[np.float64]],
    candidates: Sequence[Sequence[str]],
    labels: Sequence[str],
    weights: npt.NDArray[np.float64],
    names: tuple[str, ...],
    steps: int = 600,
) -> StageWeights:
    """Conditional logit over each example's candidates, fitted by Adam on weighted log loss."""
    codes = sorted({code for group in candidates for code in group})
    code_index = {code: position for position, code in enumerate(codes)}
    width = max(len(group) for group in candidates)
    count = len(matrices)
    features_ = np.zeros((count, width, len(names)))
    bias_index = np.zeros((count, width), dtype=np.int64)
    mask = np.zeros((count, width), dtype=bool)
    target = np.zeros((count, width))
    for row, (matrix, group, label) in enumerate(zip(matrices, candidates, labels, strict=True)):
        features_[row, : len(group)] = matrix
        bias_index[row, : len(group)] = [code_index[code] for code in group]
        mask[row, : len(group)] = True
        target[row, group.index(label)] = 1.0
    trusted = [(feature, names.index(feature)) for feature in TRUSTED_FEATURES if feature in names]
    size = len(names)
    codes_n = len(codes)
    params = np.zeros(size + codes_n * (1 + len(trusted)))
    first = np.zeros_like(params)
    second = np.zeros_like(params)
    norm = weights / weights.sum()
    for step in range(1, steps + 1):
        w = params[:size]
        b = params[size : size + codes_n]
        scores = features_ @ w + b[bias_index]
        for slot, (_, column) in enumerate(trusted):
            t = params[size + codes_n * (slot + 1) : size + codes_n * (slot + 2)]
            scores = scores + features_[:, :, column] * t[bias_index]
        scores = np.where(mask, scores, -1e9)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores) * mask
        prob = exp / exp.sum(axis=1, keepdims=True)
        delta = (prob - target) * norm[:, None] * mask
        grads = [
            np.einsum("nk,nkf->f", delta, features_),
            np.bincount(bias_index.ravel(), delta.ravel(), minlength=codes_n),
        ]
        for _, column in trusted:
            grads.append(
                np.bincount(
                    bias_index.ravel(), (delta * features_[:, :, column]).ravel(), minlength=codes_n
                )
            )
        grad = np.concatenate(grads) + 1e-4 * params
        first = 0.9 * first + 0.1 * grad
        second = 0.999 * second + 0.001 * grad**2
        params -= 0.05 * (first / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
    bias = {code: float(params[size + position]) for code, position in code_index.items()}
    trust = {
        feature: {
            code: float(params[size + codes_n * (slot + 1) + position])
            for code, position in code_index.items()
        }
        for slot, (feature, _) in enumerate(trusted)
    }
    return StageWeights(names, params[:size].copy(), bias, trust)


def curve(
    best: Sequence[str], confidence: npt.NDArray[np.float64], labels: Sequence[str]
) -> list[tuple[float, float, float]]:
    """(threshold, right share, wrong share) for thresholds from 0.3 to 0.99."""
    points = []
    right = np.array([answer == label for answer, label in zip(best, labels, strict=True)])
    named = np.array([answer != OTHER for answer in best])
    for threshold in np.arange(0.30, 0.995, 0.01):
        answered = (confidence >= threshold) & named
        points.append(
            (
                float(threshold),
                float((answered & right).mean()),
                float((answered & ~right).mean()),
            )
        )
    return points


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="shared/eval/langid folder")
    parser.add_argument("--udhr", type=Path, help="folder of UDHR in Unicode udhr_*.xml files")
    parser.add_argument("--kirundi", type=Path, help="Kirundi Open Speech & Text metadata.csv")
    parser.add_argument(
        "--za-lid",
        type=Path,
        help="DSFSI za-lid src/data/Csv_Train_test_split folder (Vuk'uzenzele sentences)",
    )
    parser.add_argument(
        "--cache", type=Path, help="pickle of the libraries' answers, kept between runs"
    )
    parser.add_argument(
        "--class-power",
        type=float,
        default=CLASS_POWER,
        help="each training text weighs (texts of its class) ** -power in the n-gram model",
    )
    parser.add_argument(
        "--min-confidence",
        type=float,
        help="naming threshold chosen by `bench.language_eval --curve` on the dev part "
        "(default: the same criterion on the tuning part, out of fold)",
    )
    parser.add_argument(
        "--out", type=Path, default=PACKAGE_DATA, help="folder for the weights (package data)"
    )
    args = parser.parse_args(None if argv is None else list(argv))

    examples = gather(args.data, args.udhr, args.kirundi, args.za_lid)
    print("training texts per class:", dict(sorted(Counter(e.label for e in examples).items())))
    languages = tuple(sorted({example.label for example in examples}))
    final, per_fold, folds = cached_models(examples, languages, args.cache, args.class_power)
    final.save(str(args.out / WEIGHTS_FILE))

    by_script: dict[str, list[str]] = defaultdict(list)
    for code in languages:
        script = shared_script(code)
        if script:
            by_script[script].append(code)
    candidates = {script: (*codes, OTHER) for script, codes in sorted(by_script.items())}
    rows: list[tuple[Example, tuple[str, ...], Opinions]] = []
    row_folds: list[int] = []
    cache: dict[str, tuple[Cld2Guess, dict[str, float], dict[str, float]]] = {}
    if args.cache and args.cache.exists():
        cache = pickle.loads(args.cache.read_bytes())
    for example, fold in zip(examples, folds, strict=True):
        script = (
            shared_script(example.label)
            if example.label != OTHER
            else _script_of_text(example.text)
        )
        if script not in candidates:
            continue
        if example.text not in cache:
            cache[example.text] = (
                cld2_guess(example.text),
                py3langid_distribution(example.text),
                lingua_distribution(example.text),
            )
        guess, py3langid, lingua = cache[example.text]
        opinions = Opinions(guess, per_fold[fold].scores(example.text), py3langid, lingua)
        rows.append((example, candidates[script], opinions))
        row_folds.append(fold)
    if args.cache:
        args.cache.write_bytes(pickle.dumps(cache))
    per_label = Counter(example.label for example, _, _ in rows)
    # Each class weighs the same (each text 1/texts of its class), as every language counts the
    # same in the figures: the 3,700 extra Kirundi sentences must not make Kirundi the likelier
    # of two neighbours.
    weights = np.array([1.0 / per_label[example.label] for example, _, _ in rows])
    labels = [example.label for example, _, _ in rows]
    groups = [group for _, group, _ in rows]
    stages: list[StageWeights] = []
    answers: list[tuple[list[str], npt.NDArray[np.float64]]] = []
    vectors: list[list[npt.NDArray[np.float64]]] = []
    for names in STAGE_FEATURES:
        matrices = [
            features(opinions, group, names, LIBRARY_LANGUAGES, languages)
            for _, group, opinions in rows
        ]
        stage = fit_stage(matrices, groups, labels, weights, names)
        stages.append(stage)
        vectors.append(
            [
                probabilities(matrix, stage, group)
                for matrix, group in zip(matrices, groups, strict=True)
            ]
        )
        answers.append(best_answers(stage, matrices, groups))
        fitted = dict(zip(names, np.round(stage.weights, 3).tolist(), strict=True))
        print(f"stage {len(stages)} weights:", fitted)

    def cost(best: Sequence[str], confidence: npt.NDArray[np.float64], threshold: float) -> float:
        """The weighted score of naming at `threshold`."""
        right = np.array([a == b for a, b in zip(best, labels, strict=True)])
        named = np.array([a != OTHER for a in best]) & (confidence >= threshold)
        other = np.array([label == OTHER for label in labels])
        # Right: a named language that is correct, or "und" for text in another language.
        gained = (named & right) | (~named & other)
        lost = named & ~right
        return float((weights * (gained - WRONG_COST * lost)).sum() / weights.sum())

    kinds = [example.kind for example, _, _ in rows]

    def chosen_point(best: Sequence[str], confidence: npt.NDArray[np.float64]) -> Point:
        """The threshold the issue's criterion chooses on these out-of-fold answers."""
        return choose(threshold_curve(criterion_answers(labels, kinds, best, confidence)))

    last_best, last_confidence = answers[-1]
    min_confidence = (
        chosen_point(last_best, last_confidence).threshold
        if args.min_confidence is None
        else args.min_confidence
    )
    full = cost(last_best, last_confidence, min_confidence)
    # Earliest stages first: each answers alone from the lowest probability that keeps the
    # pipeline within STAGE_EXIT_SLACK of always running every stage.
    exits: list[float] = []
    for _ in range(len(stages) - 1):
        chosen = 1.0
        for exit_at in np.arange(0.50, 1.0, 0.01):
            best, confidence = cascade(answers, [*exits, float(exit_at)])
            if cost(best, confidence, min_confidence) >= full - STAGE_EXIT_SLACK:
                chosen = float(exit_at)
                break
        exits.append(round(chosen, 2))
    print(f"stage exits {exits} (at the naming threshold {min_confidence:.2f})")
    # The second look at close neighbours, on the probabilities the cascade answers with.
    texts = [example.text for example, _, _ in rows]
    found = cascade_vectors(answers, vectors, exits)
    second, second_per_fold = neighbour_models(examples, fold_of, FOLDS, args.class_power)
    second.save(str(args.out / NEIGHBOURS_FILE))
    row_models = [second_per_fold[fold] for fold in row_folds]
    neighbours = fit_groups(texts, labels, groups, found, row_models, fit_stage)
    found = refined(texts, groups, found, neighbours, row_models)
    best = [group[int(vector.argmax())] for group, vector in zip(groups, found, strict=True)]
    confidence = np.array([float(vector.max()) for vector in found])
    # One naming threshold for texts of every length, by the criterion the figures are read
    # with (`bench/language_threshold.py`).
    picked = chosen_point(best, confidence)
    print(
        f"naming threshold on tuning (out of fold, with the second look): {picked.threshold:.2f}, "
        f"{picked.at_target} of {picked.measured} languages at 99.5 % right on sentences"
    )
    print(CRITERION)
    min_confidence = picked.threshold
    if args.min_confidence is not None:
        print(f"given: {args.min_confidence}")
        min_confidence = args.min_confidence
    kind_of = np.array(kinds)
    bloom = np.array([label != OTHER for label in labels])
    for kind in ("sentence", "short"):
        chosen_rows = (kind_of == kind) & bloom
        print(
            f"accuracy/coverage on tuning {kind}s in BLOOM languages (threshold: right% wrong% und%)"
        )
        for threshold, right, wrong in curve(
            [b for b, keep in zip(best, chosen_rows, strict=True) if keep],
            confidence[chosen_rows],
            [label for label, keep in zip(labels, chosen_rows, strict=True) if keep],
        )[::5]:
            print(
                f"  {threshold:.2f}: {right * 100:6.2f} {wrong * 100:5.2f} {(1 - right - wrong) * 100:6.2f}"
            )
    others = ~bloom
    named_other = np.array([b != OTHER for b in best]) & (confidence >= min_confidence) & others
    print(
        f"UDHR text in languages outside BLOOM named as a BLOOM language: {named_other.sum() / others.sum() * 100:.1f}%"
    )
    combiner = Combiner(tuple(stages), tuple(exits), min_confidence, candidates, neighbours)
    (args.out / COMBINER_FILE).write_text(
        json.dumps(combiner.to_json(), indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"wrote {args.out / WEIGHTS_FILE}, {args.out / NEIGHBOURS_FILE} and {args.out / COMBINER_FILE}"
    )


def criterion_answers(
    labels: Sequence[str],
    kinds: Sequence[str],
    best: Sequence[str],
    confidence: npt.NDArray[np.float64],
) -> list[Answer]:
    """The answers on BLOOM-language texts, as the threshold criterion reads them ("other" as
    best names nothing at any threshold)."""
    return [
        Answer(label, label, kind, UNDETERMINED if answer == OTHER else answer, float(value))
        for label, kind, answer, value in zip(labels, kinds, best, confidence, strict=True)
        if label != OTHER
    ]


def best_answers(
    stage: StageWeights,
    matrices: Sequence[npt.NDArray[np.float64]],
    groups: Sequence[Sequence[str]],
) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Each text's best candidate under `stage` and its probability."""
    best, confidence = [], []
    for matrix, group in zip(matrices, groups, strict=True):
        prob = probabilities(matrix, stage, group)
        top = int(prob.argmax())
        best.append(group[top])
        confidence.append(float(prob[top]))
    return best, np.array(confidence)


def cascade(
    answers: Sequence[tuple[list[str], npt.NDArray[np.float64]]], exits: Sequence[float]
) -> tuple[list[str], npt.NDArray[np.float64]]:
    """The answers when stage `i` answers alone at probability `exits[i]` or more."""
    best = list(answers[-1][0])
    confidence = answers[-1][1].copy()
    settled = np.zeros(len(best), dtype=bool)
    for (stage_best, stage_confidence), exit_at in zip(answers, exits, strict=False):
        take = ~settled & (stage_confidence >= exit_at)
        for row in np.flatnonzero(take):
            best[row] = stage_best[row]
        confidence[take] = stage_confidence[take]
        settled |= take
    return best, confidence


def cascade_vectors(
    answers: Sequence[tuple[list[str], npt.NDArray[np.float64]]],
    vectors: Sequence[Sequence[npt.NDArray[np.float64]]],
    exits: Sequence[float],
) -> list[npt.NDArray[np.float64]]:
    """Each text's probabilities from the stage that answers it (as `cascade` picks it)."""
    found = list(vectors[-1])
    settled = np.zeros(len(found), dtype=bool)
    for (_, stage_confidence), stage_vectors, exit_at in zip(answers, vectors, exits, strict=False):
        take = ~settled & (stage_confidence >= exit_at)
        for row in np.flatnonzero(take):
            found[row] = stage_vectors[int(row)]
        settled |= take
    return found


def _script_of_text(text: str) -> str | None:
    from core.language.scripts import dominant_script

    script, _ = dominant_script(text)
    return script


if __name__ == "__main__":
    main()
