"""The domain-ceiling benchmark's own measuring: agreement beside its baseline, the curve's
per-share summary, and XQuAD read as paragraphs grouped by article."""

from __future__ import annotations

import numpy as np
import pytest

from bench import domain_student_ceiling as ceiling


def test_agreement_counts_matches_and_reports_the_majority_label_baseline():
    teacher = np.array([0, 0, 0, 1, 2])
    result = ceiling.agreement(np.array([0, 0, 1, 1, 0]), teacher)
    assert result["documents"] == 5
    assert result["agreement"] == 0.6
    assert result["majority_label_baseline"] == 0.6
    low, high = result["agreement_95ci"]
    assert low < 0.6 < high


def test_the_least_confident_documents_take_the_teachers_label():
    student = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8], [0.6, 0.4]])
    teacher = np.array([1, 1, 0, 1])
    assert ceiling.with_fallback(student, teacher, 0.0).tolist() == [0, 0, 1, 0]
    assert ceiling.with_fallback(student, teacher, 0.5).tolist() == [0, 1, 1, 1]
    assert ceiling.with_fallback(student, teacher, 1.0).tolist() == teacher.tolist()


def test_the_curve_summary_averages_each_share_over_its_seeds():
    curve = [
        {"share": 0.25, "seed": s, "news": {"agreement": a}} for s, a in ((1, 0.6), (2, 0.7))
    ] + [{"share": 0.5, "seed": 1, "news": {"agreement": 0.8}}]
    summary = ceiling.summarise(curve, ["news"])
    assert summary["0.25"]["news"]["mean"] == pytest.approx(0.65)
    assert summary["0.25"]["news"]["n"] == 2 and summary["0.25"]["news"]["ci95"] > 0
    assert summary["0.5"]["news"] == {"mean": 0.8, "ci95": None, "std": None, "n": 1}
    assert summary["1.0"]["news"]["n"] == 0


def test_xquad_paragraphs_are_grouped_by_article(shared_data, monkeypatch):
    monkeypatch.setenv("THRESHER_SHARED_DATA", str(shared_data))
    paragraphs = ceiling.xquad_paragraphs()
    english = paragraphs[paragraphs["language"] == "en"]
    # XQuAD: 240 paragraphs from 48 articles, the same in each of its 12 languages
    assert len(english) == 240 and english["group"].nunique() == 48
    assert paragraphs["language"].nunique() == 12
    assert len(paragraphs) == 12 * 240
