"""QuaDMix sampling math (arXiv 2504.16511, as restated in PAPERS.md). numpy only.

Shared by the Spark sampling job and the mixture search: the parameters of one mixture as a
frozen, versioned object, the paper's parameter sampler, the sampling function S(r̄), and a
seeded per-document draw that turns an expected copy count into an integer one.

Conventions (PAPERS.md): quality scores are "smaller is better"; r̄ is a document's
token-weighted percentile rank within its domain, so small r̄ is top quality.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FORMAT = "quadmix/1"
# The extracted paper text reads both as λ̃ = 10³·λ and λ̃ = 10^{3λ}; which one is a setting.
LAMBDA_SCALES = ("linear", "exponential")


@dataclass(frozen=True)
class QuadMixParams:
    """(N + 4)·M parameters: per domain m, merge weights α_{·,m} over N criteria and (λ, ω, η, ε).

    ``alpha[m][n]`` weighs criterion ``criteria[n]`` in domain ``domains[m]``; each row sums to 1.
    """

    criteria: tuple[str, ...]
    domains: tuple[str, ...]
    alpha: tuple[tuple[float, ...], ...]
    lam: tuple[float, ...]
    omega: tuple[float, ...]
    eta: tuple[float, ...]
    eps: tuple[float, ...]

    def __post_init__(self) -> None:
        n, m = len(self.criteria), len(self.domains)
        if n == 0 or m == 0:
            raise ValueError("QuadMix needs at least one criterion and one domain")
        if len(set(self.domains)) != m or len(set(self.criteria)) != n:
            raise ValueError("criteria and domains must be unique")
        as_tuple = {
            "alpha": tuple(tuple(float(a) for a in row) for row in self.alpha),
            **{
                k: tuple(float(v) for v in getattr(self, k)) for k in ("lam", "omega", "eta", "eps")
            },
        }
        for key, value in as_tuple.items():
            object.__setattr__(self, key, value)
        if len(self.alpha) != m or any(len(row) != n for row in self.alpha):
            raise ValueError(f"alpha must be {m} domains x {n} criteria")
        if any(len(getattr(self, k)) != m for k in ("lam", "omega", "eta", "eps")):
            raise ValueError(f"lam, omega, eta and eps need one value per domain ({m})")
        weights = np.asarray(self.alpha)
        if (weights < 0).any() or not np.allclose(weights.sum(axis=1), 1.0):
            raise ValueError("each domain's alpha must be non-negative and sum to 1")
        if any(not 0.0 <= w <= 1.0 for w in self.omega) or any(e < 0 for e in self.eps):
            raise ValueError("omega must lie in [0, 1] and eps be non-negative")

    @property
    def version(self) -> str:
        """A content hash: the same parameters always carry the same version."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "criteria": list(self.criteria),
            "domains": list(self.domains),
            # repr-exact floats: a round trip reproduces the same bytes, hence the same version
            "alpha": [list(row) for row in self.alpha],
            "lam": list(self.lam),
            "omega": list(self.omega),
            "eta": list(self.eta),
            "eps": list(self.eps),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> QuadMixParams:
        body = json.loads(text)
        if body.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} parameter set: {body.get('format')!r}")
        return cls(
            criteria=tuple(body["criteria"]),
            domains=tuple(body["domains"]),
            alpha=tuple(tuple(row) for row in body["alpha"]),
            **{k: tuple(body[k]) for k in ("lam", "omega", "eta", "eps")},
        )

    def domain_index(self, domain: str) -> int:
        """Row of ``domain``; a domain without its own row uses the ``"*"`` row when present."""
        if domain in self.domains:
            return self.domains.index(domain)
        if "*" in self.domains:
            return self.domains.index("*")
        raise KeyError(f"no QuadMix parameters for domain {domain!r} (nor a '*' row)")

    @classmethod
    def uniform(
        cls,
        criteria: Sequence[str],
        domains: Sequence[str],
        lam: float = 10.0,
        omega: float = 0.9,
        eta: float = 1.0,
        eps: float = 0.0,
    ) -> QuadMixParams:
        """Equal criterion weights and one (λ, ω, η, ε) for every domain (a starting point).

        The defaults keep the best 90 % of each domain's tokens, the best of them up to twice
        (S → 2 well below ω) and the worst 10 % not at all: a conservative mixture until a
        searched parameter set replaces it.
        """
        n, m = len(criteria), len(domains)
        return cls(
            tuple(criteria),
            tuple(domains),
            tuple((1.0 / n,) * n for _ in range(m)),
            (lam,) * m,
            (omega,) * m,
            (eta,) * m,
            (eps,) * m,
        )


def sample_params(
    criteria: Sequence[str],
    domains: Sequence[str],
    rng: np.random.Generator,
    lambda_scale: str = "linear",
) -> QuadMixParams:
    """One draw of the paper's parameter sampler.

    a_n ~ U(0,1) normalised to ã; per domain b_{n,m} ~ U(0,1), α_{n,m} ∝ ã_n·b_{n,m} normalised
    over n; λ, ω, η, ε ~ U(0,1) rescaled to λ̃ = 10³·λ (``linear``) or 10^{3λ} (``exponential``),
    ω̃ = 0.1·ω, η̃ = η, ε̃ = ε/1000.
    """
    if lambda_scale not in LAMBDA_SCALES:
        raise ValueError(f"lambda_scale must be one of {LAMBDA_SCALES}, got {lambda_scale!r}")
    n, m = len(criteria), len(domains)
    a = rng.uniform(size=n)
    a_tilde = a / a.sum()
    b = rng.uniform(size=(m, n))
    alpha = a_tilde[None, :] * b
    alpha /= alpha.sum(axis=1, keepdims=True)
    lam, omega, eta, eps = rng.uniform(size=(4, m))
    lam_tilde = 1e3 * lam if lambda_scale == "linear" else 10.0 ** (3.0 * lam)
    return QuadMixParams(
        tuple(criteria),
        tuple(domains),
        tuple(tuple(row) for row in alpha.tolist()),
        tuple(lam_tilde.tolist()),
        tuple((0.1 * omega).tolist()),
        tuple(eta.tolist()),
        tuple((eps / 1000.0).tolist()),
    )


def sampling_function(r, lam, omega, eta, eps) -> np.ndarray:
    """S(r̄) = (2 / (1 + exp(−λ(ω − r̄))))^η + ε for r̄ ≤ ω, else ε: an expected copy count.

    Arguments broadcast, so per-document domain parameters can be passed as arrays.
    """
    r, lam, omega, eta, eps = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (r, lam, omega, eta, eps))
    )
    # exp overflows to inf for very negative exponents; 2 / inf = 0 is then the right limit.
    with np.errstate(over="ignore"):
        head = (2.0 / (1.0 + np.exp(-lam * (omega - r)))) ** eta
    return np.where(r <= omega, head + eps, eps)


def uniform_draws(seed: int, keys: Sequence[str]) -> np.ndarray:
    """One U(0,1] value per key from (seed, key) alone: independent of order and partitioning.

    Never 0, so that ``copy_counts`` gives no copy to a document whose S is 0.
    """
    out = np.empty(len(keys), dtype=np.float64)
    prefix = f"{int(seed)}\x1f".encode()
    for i, key in enumerate(keys):
        digest = hashlib.blake2b(prefix + key.encode(), digest_size=8).digest()
        out[i] = ((int.from_bytes(digest, "big") >> 11) + 1) * 2.0**-53  # 53 random bits
    return out


def copy_counts(expected, uniforms) -> np.ndarray:
    """⌊S⌋ copies, plus one more when the document's uniform draw u ≤ S − ⌊S⌋.

    Written ⌊S + 1 − u⌋: one formula, evaluated the same way by numpy and by Spark SQL
    (``spark_jobs.quota``), and monotone in S for a fixed u — so scaling every S by c
    (the quota, ``thresher.mixture_quota``) adds copies one document at a time.
    """
    expected = np.asarray(expected, dtype=np.float64)
    return np.floor(expected + 1.0 - np.asarray(uniforms, dtype=np.float64)).astype(np.int64)


def weighted_percentile_rank(quality, tokens) -> np.ndarray:
    """Exact r̄: tokens of documents with q̄ ≤ q̄_x over all tokens (one domain, numpy)."""
    quality = np.asarray(quality, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.float64)
    order = np.argsort(quality, kind="stable")
    sorted_q = quality[order]
    cumulative = np.cumsum(tokens[order])
    # ties share the rank of the last of them: "q̄_x ≤ q̄" includes every tie
    last_tie = np.searchsorted(sorted_q, sorted_q, side="right") - 1
    ranks = np.empty_like(quality)
    ranks[order] = cumulative[last_tie] / cumulative[-1] if len(quality) else 0.0
    return ranks
