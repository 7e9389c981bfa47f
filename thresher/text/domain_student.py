"""A fast domain classifier distilled from the E5 one: one vote per E5 piece, averaged.

A document is read as its teacher reads it (``e5_vocabulary.E5Tokenizer``: E5's own pieces
of its first ``max_chars`` characters). Its label logits are the weighted mean of its
pieces' rows of ``piece_logits`` plus ``bias``, a piece weighted by how rare it is in E5's
unigram model (``a / (a + p(piece))``, the SIF weight of Arora et al., 2017): no matrix
product, no network, about a microsecond a piece.

How the table is learnt (``fit``), as FineWeb-Edu distils its annotator:
1. every piece starts as E5's input embedding of it (``e5_vocabulary.read_input_embeddings``),
   so a piece never seen in training still votes like its translations and synonyms do;
2. a softmax head over the documents' mean piece vectors is fitted to the teacher's label
   distribution (the E5 classifier's probabilities) on labelled items and on a sample of
   the corpus, the gold label mixed in where there is one; folding the head into the piece
   vectors gives one row of label logits per piece;
3. the rows of pieces seen in training are refined by softmax regression on the same
   targets, held near their start by an L2 penalty (``refine_l2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

from thresher.stats import wilson
from thresher.text import e5_vocabulary
from thresher.text.e5_vocabulary import E5Tokenizer, e5_tokenizer
from thresher.text.truncate import truncate

SIF_A = 1e-4
FOLD_ROWS = 25_000  # pieces dequantised at a time when folding the head (38 MB of float32)
FORMAT = "thresher-domain-student-1"


def piece_weights(scores: np.ndarray, a: float = SIF_A) -> np.ndarray:
    """SIF weight of each piece from its unigram log-probability; special pieces weigh 0."""
    weights = (a / (a + np.exp(scores.astype(np.float64)))).astype(np.float32)
    weights[scores == 0] = 0.0  # <s>, <pad>, </s>, <unk> carry score 0
    return weights


def piece_bags(tokenizer: E5Tokenizer, texts: list[str], weights: np.ndarray, max_chars: int):
    """``(documents, pieces)`` sparse matrix: each row the document's normalised piece weights."""
    ids = tokenizer.ids([truncate(t or "", max_chars) for t in texts])
    rows = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    cols = np.fromiter((p for doc in ids for p in doc), np.int64, rows.size)
    bags = sp.csr_matrix((weights[cols], (rows, cols)), shape=(len(ids), weights.size))
    bags.sum_duplicates()
    totals = np.asarray(bags.sum(axis=1)).ravel()
    return sp.diags(np.where(totals > 0, 1.0 / np.where(totals > 0, totals, 1), 0.0)) @ bags


@dataclass(frozen=True)
class DomainStudent:
    labels: tuple[str, ...]
    piece_logits: np.ndarray  # (pieces, labels) float32
    bias: np.ndarray  # (labels,)
    weights: np.ndarray  # (pieces,) SIF weights
    max_chars: int

    def logits(self, texts: list[str], tokenizer: E5Tokenizer | None = None) -> np.ndarray:
        bags = piece_bags(tokenizer or e5_tokenizer(), texts, self.weights, self.max_chars)
        return np.asarray(bags @ self.piece_logits) + self.bias

    def probabilities(self, texts: list[str], tokenizer: E5Tokenizer | None = None) -> np.ndarray:
        return softmax(self.logits(texts, tokenizer))

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Each text's most probable label and that probability."""
        probabilities = self.probabilities(texts)
        best = probabilities.argmax(axis=1)
        return [self.labels[i] for i in best], probabilities[np.arange(len(best)), best]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fit_softmax(
    features,
    targets: np.ndarray,
    l2: float,
    start=None,
    centre=None,
    max_iter: int = 300,
    row_weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression on soft ``targets`` (rows sum to 1): ``(W, b)`` minimising the
    (``row_weights``-weighted) mean cross-entropy plus ``l2 / 2 · ||W - centre||²`` (L-BFGS)."""
    rows, dims = features.shape
    row_weights = np.ones(rows) if row_weights is None else np.asarray(row_weights, float)
    row_weights = (row_weights * rows / row_weights.sum())[:, None]
    labels = targets.shape[1]
    centre = np.zeros((dims, labels)) if centre is None else centre
    transposed = features.T.tocsr() if sp.issparse(features) else features.T

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = flat[:-labels].reshape(dims, labels), flat[-labels:]
        logits = np.asarray(features @ weights) + bias
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        gap = weights - centre
        value = -(row_weights * targets * log_p).sum() / rows + 0.5 * l2 * (gap**2).sum()
        error = row_weights * (np.exp(log_p) - targets) / rows
        grad_w = np.asarray(transposed @ error) + l2 * gap
        return value, np.concatenate([grad_w.ravel(), error.sum(axis=0)])

    initial = np.zeros(dims * labels + labels) if start is None else start
    result = minimize(loss, initial, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return result.x[:-labels].reshape(dims, labels), result.x[-labels:]


def fit(
    texts: list[str],
    targets: np.ndarray,
    labels: tuple[str, ...],
    max_chars: int = 256,
    head_l2: float = 1e-4,
    refine_l2: float = 1e-6,
    max_iter: int = 300,
    model_path: Path | None = None,
    row_weights: np.ndarray | None = None,
) -> DomainStudent:
    """A student whose label distribution of each text approaches ``targets`` (one row per
    text, summing to 1: a teacher's probabilities, or a one-hot gold label); ``row_weights``
    weigh the texts (default: equally)."""
    targets = np.asarray(targets, dtype=np.float64)
    if not texts:
        raise ValueError("a domain student needs at least one training text")
    if targets.shape != (len(texts), len(labels)):
        raise ValueError(f"targets must be {len(texts)} x {len(labels)}, got {targets.shape}")
    vocabulary = e5_vocabulary.vocabulary(model_path)
    tokenizer = e5_vocabulary.e5_tokenizer(model_path)
    weights = piece_weights(vocabulary.scores)
    bags = piece_bags(tokenizer, texts, weights, max_chars)
    seen = np.unique(bags.indices)
    seen_bags = bags[:, seen].tocsr()
    # 2. a head over mean E5 input vectors, folded into one row of logits per piece
    vectors = e5_vocabulary.read_input_embeddings(model_path, rows=seen)
    head, bias = fit_softmax(
        seen_bags @ vectors, targets, head_l2, max_iter=max_iter, row_weights=row_weights
    )
    piece_logits = np.zeros((weights.size, len(labels)), np.float32)
    for start in range(0, weights.size, FOLD_ROWS):
        rows = np.arange(start, min(start + FOLD_ROWS, weights.size))
        embeddings = e5_vocabulary.read_input_embeddings(model_path, rows=rows)
        piece_logits[rows] = embeddings @ head.astype(np.float32)
    # 3. the pieces seen in training, refined on the same targets near where they started
    centre = piece_logits[seen].astype(np.float64)
    start = np.concatenate([centre.ravel(), bias])
    refined, bias = fit_softmax(
        seen_bags,
        targets,
        refine_l2,
        start=start,
        centre=centre,
        max_iter=max_iter,
        row_weights=row_weights,
    )
    piece_logits[seen] = refined
    return DomainStudent(tuple(labels), piece_logits, bias.astype(np.float32), weights, max_chars)


def save(student: DomainStudent, handle: BinaryIO) -> None:
    """Write ``student`` as one ``.npz`` (about 7 MB for 7 labels)."""
    np.savez_compressed(
        handle,
        format=np.array(FORMAT),
        labels=np.array(student.labels),
        piece_logits=student.piece_logits,
        bias=student.bias,
        weights=student.weights,
        max_chars=np.array(student.max_chars),
    )


def load(handle: BinaryIO) -> DomainStudent:
    with np.load(handle, allow_pickle=False) as saved:
        if "format" not in saved or str(saved["format"]) != FORMAT:
            raise ValueError(f"not a domain student of format {FORMAT}")
        return DomainStudent(
            tuple(str(label) for label in saved["labels"]),
            saved["piece_logits"],
            saved["bias"],
            saved["weights"],
            int(saved["max_chars"]),
        )


def fallback_threshold(confidence: np.ndarray, agrees: np.ndarray, target: float) -> float | None:
    """The lowest confidence threshold at which the student, handing every document below it
    to its teacher, agrees with the teacher on these documents by at least ``target``, read
    off the lower end of the agreement's 95% Wilson interval (a few hundred documents are a
    small sample: the point estimate would promise more than unseen documents give).

    ``confidence`` and ``agrees`` (whether the student picked the teacher's label) describe
    held-out documents the teacher labelled; a handed document agrees by construction. None:
    the student alone reaches the target (or ``target`` is 0); ``inf``: only handing every
    document does.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    if target <= 0 or len(confidence) == 0:
        return None
    order = np.argsort(confidence, kind="stable")
    ranked, agreeing = confidence[order], np.asarray(agrees, dtype=np.float64)[order]
    n = len(ranked)
    # handing the k least sure: k + the agreements among the other n - k, for k = 0 … n
    kept_agreeing = np.concatenate([np.cumsum(agreeing[::-1])[::-1], [0.0]])
    for k in range(n + 1):
        if 0 < k < n and ranked[k] == ranked[k - 1]:
            continue  # "below a threshold" hands a tie whole or not at all
        if wilson(int(round(k + kept_agreeing[k])), n)[0] >= target:
            break
    else:
        return float("inf")
    if k == 0:
        return None
    return float(ranked[k]) if k < n else float("inf")


def fallback_check(
    confidence: np.ndarray, agrees: np.ndarray, threshold: float | None
) -> dict[str, float | int]:
    """Agreement with the teacher and the share handed to it, on documents the threshold was
    not chosen on."""
    confidence = np.asarray(confidence, dtype=np.float64)
    handed = confidence < threshold if threshold is not None else np.zeros(len(confidence), bool)
    same = handed | np.asarray(agrees, dtype=bool)
    return {
        "documents": len(confidence),
        "handed_share": round(float(handed.mean()), 4) if len(confidence) else 0.0,
        "agreement": round(float(same.mean()), 4) if len(confidence) else float("nan"),
        "agreeing": int(same.sum()),
    }
