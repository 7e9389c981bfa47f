"""Search features: written once per recipe, and the numpy sampler over them is the mixture."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.mixture_search.features import read_features
from spark_jobs import mixture, search_features
from spark_jobs.delta_io import read_table
from tests.conftest import make_settings
from tests.corpus import write_scored_documents
from thresher import mixture_search
from thresher.mixture_quota import Quota
from thresher.quadmix import QuadMixParams
from thresher.tables import mixture_table


@pytest.fixture
def scored(spark, settings):
    write_scored_documents(spark, settings, documents=240)
    return settings


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """A scored lake and its features, built once; mixtures rank exactly (as the proxies do)."""
    settings = make_settings(tmp_path_factory.mktemp("features"))
    settings = dataclasses.replace(
        settings, mixture=dataclasses.replace(settings.mixture, rank_mode="exact")
    )
    write_scored_documents(spark, settings, documents=240)
    return settings, search_features.build(spark, settings)


def test_features_hold_every_scored_document_once_with_its_sigmas(lake):
    _, summary = lake

    assert summary["rewritten"] and summary["documents"] == 240
    assert summary["criteria"] == ["rules", "reference_classifier"]
    assert summary["domains"] == ["news", "science", "travel"]
    pool = read_features(summary["path"])
    assert len(pool) == 240 and len(set(pool.nodes)) == 240
    assert pool.fingerprint == summary["fingerprint"]
    assert ((pool.sigmas >= 0) & (pool.sigmas <= 1)).all()
    # percent rank of the flipped score: the best document of each criterion has σ = 0, the
    # worst of the continuous one 1 (the rule share's worst value is shared: ties rank first)
    assert (pool.sigmas.min(axis=0) == 0).all() and pool.sigmas[:, 1].max() == 1
    languages = np.asarray(pool.languages)
    for lang in ("en", "de", "fr"):  # σ ranks within a language: 9 rule shares in each
        assert len(np.unique(pool.sigmas[languages == lang, 0])) <= 9
    assert sorted(set(pool.languages)) == ["de", "en", "fr"]
    assert all(t.endswith((".", "!")) for t in pool.texts)


def test_an_unchanged_recipe_is_not_rewritten_and_a_new_source_version_is(spark, scored):
    first = search_features.build(spark, scored)
    again = search_features.build(spark, scored)
    assert not again["rewritten"] and again["fingerprint"] == first["fingerprint"]

    write_scored_documents(spark, scored, documents=240, seed=4)  # new scores, new versions
    changed = search_features.build(spark, scored)
    assert changed["rewritten"] and changed["fingerprint"] != first["fingerprint"]


QUOTAS = {
    "none": Quota(),
    "budget": Quota(20_000, "explicit", explicit={"en": 0.5, "de": 0.3, "fr": 0.2}),
}


@pytest.mark.parametrize(
    ("which", "quota"),
    [("hand", "none"), ("sampled", "none"), ("hand", "budget"), ("sampled", "budget")],
)
def test_numpy_sampler_draws_the_copies_of_the_spark_mixture(spark, lake, which, quota):
    settings, summary = lake
    quota = QUOTAS[quota]
    settings = dataclasses.replace(
        settings,
        mixture=dataclasses.replace(
            settings.mixture,
            budget_tokens=quota.budget_tokens,
            language_policy=quota.policy,
            language_shares={k: str(v) for k, v in (quota.explicit or {}).items()},
        ),
    )
    pool = read_features(summary["path"])
    domains = pool.domain_names
    if which == "hand":  # keeps most documents, several with 2+ copies
        params = QuadMixParams(
            pool.criteria,
            domains,
            ((0.7, 0.3), (0.2, 0.8), (0.5, 0.5)),
            lam=(8.0, 20.0, 5.0),
            omega=(0.8, 0.6, 0.9),
            eta=(1.5, 1.0, 2.0),
            eps=(0.05, 0.0, 0.2),
        )
    else:  # the paper's sampler: ω ≤ 0.1, only each domain's best tokens (ε > 0 for the rest)
        params = mixture_search.sample_set(pool.criteria, domains, 7, 3, "linear")

    summary = mixture.run(spark, settings, params=params)
    table = read_table(spark, mixture_table(settings.mixture.name), settings)
    spark_rows = {
        f"{r['ingest_date']}/{r['doc_id']}": (r["copies"], r["rank"], r["quality"])
        for r in table.collect()
    }
    drawn = pool.mixture_copies(params, settings.mixture.seed, Quota.of(settings.mixture))
    numpy_rows = {
        node: (int(c), r, q)
        for node, c, r, q in zip(
            pool.nodes, drawn["copies"], drawn["rank"], drawn["quality"], strict=True
        )
        if c > 0
    }
    assert numpy_rows.keys() == spark_rows.keys()
    assert len(numpy_rows) > 0
    for node, (copies, rank, quality) in numpy_rows.items():
        assert spark_rows[node][0] == copies, node
        assert spark_rows[node][1:] == (rank, quality), node  # bit-identical, not just close
    if which == "hand" and quota.budget_tokens == 0:
        assert max(c for c, _, _ in numpy_rows.values()) >= 2
    assert np.isfinite(drawn["expected_copies"]).all()
    assert summary["quota"] == drawn["quota"] | {"largest_document_tokens": int(pool.tokens.max())}
    if quota.budget_tokens:  # the quota, met within one document by both
        assert abs(summary["mixture.tokens"] - quota.budget_tokens) <= pool.tokens.max()
        assert summary["mixture.within_budget"]
