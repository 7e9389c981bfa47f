"""The murating DAG end to end on real parallel text: judgments → pairs → training (a local
process that registers the rater in MLflow) → batch rating → selection."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import Row

from tests.corpus import ntrex_documents, table_frame
from tests.dags.conftest import airflow_cli
from thresher import tracking
from thresher.tables import BRONZE_DOCUMENTS, SILVER_DEDUP, SILVER_QUALITY_SCORES, mixture_table

DAY = dt.date(2026, 11, 2)


def write_kept_documents(spark, settings, shared) -> int:
    """bronze.documents + silver.dedup (all kept) for DAY: real NTREX news, en and de."""
    from spark_jobs.delta_io import ensure_table

    bronze, dedup = [], []
    for code, language in (("eng-US", "en"), ("deu", "de")):
        for i, text in enumerate(ntrex_documents(shared, code, 40)[-8:]):
            doc_id = f"{language}{i:030d}"
            bronze.append(Row(
                doc_id=doc_id, ingest_date=DAY, source="tests", url=f"https://x.org/{doc_id}",
                location="tests", source_format="html", title=None, text=text,
                content_sha256=f"{i:064x}", language=language, language_score=0.99,
                n_chars=len(text), n_bytes=len(text.encode()), extractor="tests",
            ))  # fmt: skip
            dedup.append(Row(doc_id=doc_id, ingest_date=DAY, cluster_id=doc_id,
                             duplicate_of=None, duplicate_of_date=None, method=None))  # fmt: skip
    for spec, rows in ((BRONZE_DOCUMENTS, bronze), (SILVER_DEDUP, dedup)):
        path = ensure_table(spark, spec, settings)
        table_frame(spark, spec, rows).write.format("delta").mode("overwrite").save(path)
    return len(bronze)


@pytest.mark.airflow
@pytest.mark.timeout(1800)
def test_a_run_rates_the_partition_and_selects_a_balanced_mixture(
    spark, pipeline_env, shared_data, tmp_path
):
    env, settings = pipeline_env
    env = {**env, "THRESHER_LANGUAGES": "en,de", "THRESHER_MURATING_SOURCES": "ntrex",
           "THRESHER_MURATING_MAX_UNITS": "16", "THRESHER_MURATING_AGGREGATION_PAIRS": "400",
           "THRESHER_MURATING_MONOLINGUAL_PAIRS_PER_LANGUAGE": "60",
           "THRESHER_MURATING_CROSS_LINGUAL_PAIRS": "60", "THRESHER_MURATING_PARALLEL_PAIRS": "30",
           "THRESHER_MURATING_DATA_PATH": str(shared_data), "THRESHER_MURATING_EPOCHS": "3",
           "THRESHER_MURATING_ENGLISH_SHARE": "0.5",
           "THRESHER_MURATING_HELD_OUT_FRACTION": "0.4"}  # fmt: skip
    documents = write_kept_documents(spark, settings, shared_data)
    log = tmp_path / "dags-test.log"

    result = airflow_cli("dags", "test", "murating", DAY.isoformat(), "--conf",
                         json.dumps({"epochs": 3}), env=env, log=log, timeout=1700)  # fmt: skip

    output = log.read_text()
    assert result.returncode == 0, output[-4000:]
    scores = spark.read.format("delta").load(SILVER_QUALITY_SCORES.path(settings))
    rated = scores.where("criterion = 'murating'").toPandas()
    assert len(rated) == documents and rated.doc_id.is_unique
    assert set(rated.version) == {"1"}  # the first registry version of the rater
    mixture = spark.read.format("delta").load(mixture_table("murating").path(settings)).toPandas()
    english = mixture.doc_id.str.startswith("en").sum()
    assert 0 < english < len(mixture)
    client = tracking.client(settings)
    (version,) = client.search_model_versions("name='murating'")
    assert client.get_run(version.run_id).info.status == "FINISHED"
    metrics = client.get_run(version.run_id).data.metrics
    assert {"train_loss", "held_out_loss", "eval.pairwise_pairs"} <= set(metrics)


def test_kubernetes_pods_train_and_translate_on_gpus(tmp_path, monkeypatch):
    """With translation configured, both model tasks render as valid GPU pods."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO
    from thresher_tasks.pod_specs import pod_problems, render_pods

    monkeypatch.setenv("THRESHER_EXECUTOR", "kubernetes")
    monkeypatch.setenv("THRESHER_STORAGE_ROOT", "s3a://thresher-lake/prod")
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    monkeypatch.setenv("THRESHER_MURATING_TRANSLATION_MODELS", "de=/models/opus-mt-en-de")
    bag = DagBag(dag_folder=str(REPO / "dags" / "murating.py"))
    assert bag.import_errors == {}
    dag = bag.dags["murating"]
    xcom = {
        "train_rater": {"model_path": "/checkpoints/murating/default/run/model"},
        "pairs": {"pairs_path": "s3a://thresher-lake/prod/silver/murating_pairs"},
        "export_english": {"path": "/checkpoints/murating/default/english/x.parquet"},
    }
    pods = render_pods(dag, xcom=xcom)
    assert set(pods) == {"train_rater", "translate", "rate_documents"}
    for pod in pods.values():
        assert pod_problems(pod) == []
        assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    args = pods["train_rater"]["spec"]["containers"][0]["args"]
    assert args[args.index("--pairs") + 1] == "s3a://thresher-lake/prod/silver/murating_pairs"
    assert "{{" not in " ".join(args)
    translate = pods["translate"]["spec"]["containers"][0]["args"]
    assert translate[translate.index("--model") + 1] == "de=/models/opus-mt-en-de"
    rating = pods["rate_documents"]["spec"]["containers"][0]["args"]
    assert rating[rating.index("--partition") + 1] == "2026-01-01"
    upstream = {t.task_id: t.upstream_task_ids for t in dag.tasks}
    assert upstream["judgments"] == {"translate"} and upstream["rate"] == {"rate_documents"}
