"""The curation DAG end to end through ``airflow dags test``, next to ``thresher curate``
(the same stages without Airflow, as a client of a Spark Connect server) on the following
day, and a run stopped by a failing gate."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from spark_jobs import cli
from spark_jobs.delta_io import read_table
from tests.corpus import html_page, ntrex_documents
from tests.dags.conftest import airflow_cli, dags_test
from tests.processes import free_port, port_open, running
from thresher import tracking
from thresher.quadmix import QuadMixParams
from thresher.tables import (
    BRONZE_DOCUMENTS,
    QUARANTINE,
    SILVER_DOMAINS,
    SILVER_QUALITY_SCORES,
    mixture_table,
)

# Two dates: the first trains the models and keeps the pages, the second finds them re-crawled.
DATES = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))


def dags_test_subprocess(env, day: dt.date, input_path, log, source="news"):
    conf = json.dumps({"input_path": str(input_path), "source": source})
    return airflow_cli(
        "dags", "test", "curation", day.isoformat(), "--conf", conf, env=env, log=log
    )


# One day through Airflow and the next through the CLI, rather than two DAG runs and a CLI run
# on a lake of its own: each whole pipeline run costs a minute or more on 2 cores, and the DAG
# tasks and ``thresher curate`` call the same stage functions. The DAG run is Airflow's CLI in
# this process, so its Spark tasks use the test's warm JVM; Airflow's execution_timeout arms
# SIGALRM here, so this test's own timeout is a thread. The CLI run is a process of its own
# with no Java to start: every job of it, model checks included, goes to the Spark Connect
# server ``thresher connect-server`` runs (what make demo's tasks do).
@pytest.mark.airflow
@pytest.mark.timeout(600, method="thread")
@pytest.mark.filterwarnings("ignore:Could not import graphviz")  # airflow's CLI, on import
def test_a_dag_run_and_a_cli_run_curate_two_dates_into_one_lake(
    spark, shared_data, pipeline_env, tmp_path, monkeypatch
):
    env, settings = pipeline_env
    pages = tmp_path / "pages"
    pages.mkdir()
    for code in ("deu", "fra", "jpn"):
        text = ntrex_documents(shared_data, code, 1)[0]
        (pages / f"{code}.html").write_text(html_page(code, text), "utf-8")
    (pages / "broken.html").write_bytes(b"\xff\xfe not utf-8")
    # Each page is its language's only document, and r̄ (the group's tokens at or below its
    # quality, over the group's) of a group's only document is 1: ω = 1 keeps it in the mixture.
    params = tmp_path / "params.json"
    params.write_text(QuadMixParams.uniform(settings.mixture.criteria, ("*",), omega=1.0).to_json())
    env = {**env, "THRESHER_MIXTURE_PARAMS_PATH": str(params)}
    for name, value in env.items():  # the settings of the DAG's tasks and the CLI's
        if name.startswith("THRESHER_"):
            monkeypatch.setenv(name, value)

    # a fresh lake: the models train here
    dags_test("curation", DATES[0], {"input_path": str(pages), "source": "news"})
    port = free_port()
    remote = {**env, "THRESHER_SPARK_REMOTE": f"sc://127.0.0.1:{port}"}
    thresher = str(Path(sys.executable).parent / "thresher")
    server_log = tmp_path / "connect-server.log"
    with running(
        [thresher, "connect-server"],
        log=server_log,
        ready=port_open(port),
        env=remote,
        timeout=180,
    ):
        client = {k: v for k, v in remote.items() if k != "JAVA_HOME"}
        client["PATH"] = str(Path(sys.executable).parent)  # no java: no driver of its own
        argv = ["curate", "--date", DATES[1].isoformat(), "--input", str(pages)]
        result = subprocess.run(
            [thresher, *argv, "--run-key", "k1"], env=client, capture_output=True, text=True
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Spark Connect server on" in server_log.read_text()
    summary = json.loads(result.stdout.split("MLflow run")[0])
    assert summary["bronze"]["languages"] == {"de": 1, "fr": 1, "ja": 1}

    bronze = read_table(spark, BRONZE_DOCUMENTS, settings)
    per_day = {
        r[0]: (r[1], r[2])
        for r in bronze.groupBy("ingest_date")
        .agg(F.count("*"), F.countDistinct("doc_id"))
        .collect()
    }
    assert per_day == {day: (3, 3) for day in DATES}
    assert {r[0] for r in bronze.select("language").distinct().collect()} == {"de", "fr", "ja"}
    quarantined = read_table(spark, QUARANTINE, settings).groupBy("ingest_date").count().collect()
    assert {r[0]: r[1] for r in quarantined} == {day: 1 for day in DATES}

    client = tracking.client(settings)
    (dag_run,) = client.search_runs(
        [tracking.experiment_id(settings)], "tags.`thresher.via` = 'airflow'"
    )
    cli_run = client.get_run(tracking.open_run(settings, "k1"))  # found again, not created
    assert dag_run.data.tags["thresher.partition"] == DATES[0].isoformat()
    assert cli_run.data.tags["thresher.partition"] == DATES[1].isoformat()
    assert cli_run.data.tags["thresher.via"] == "cli"
    assert dag_run.data.params["ingest.source"] == "news"
    assert cli_run.data.params["ingest.source"] == "pages"  # no --source: the folder's name
    for run in (dag_run, cli_run):
        assert run.info.status == "FINISHED"
        assert run.data.metrics["ingest.in"] == 4
        assert run.data.metrics["ingest.kept"] == 3
        assert run.data.metrics["ingest.quarantined.invalid_utf8"] == 1
        assert run.data.metrics["bronze.documents"] == 3
        for gate in cli.GATES:
            assert run.data.metrics[f"gate.{gate}.success"] == 1, gate
        # The same pages every day: day one keeps them, later days mark them as re-crawls.
        first_day = run.data.tags["thresher.partition"] == DATES[0].isoformat()
        assert run.data.metrics["dedup.kept"] == (3 if first_day else 0)
        assert run.data.metrics.get("dedup.dropped.exact_duplicate", 0) == (0 if first_day else 3)
        assert run.data.params["config.spark.master"] == "local[2]"
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"gates", "mixtures", "stage_statistics.json", "report.html"} <= artifacts
        page = client.download_artifacts(run.info.run_id, "report.html", str(tmp_path))
        report = Path(page).read_text(encoding="utf-8")
        assert f"Curation of {run.data.tags['thresher.partition']}" in report
        assert "5 of 5 Great Expectations gates passed" in report and "FAILED" not in report
        assert "invalid_utf8" in report  # the broken page's quarantine reason, in the funnel
        assert ("exact_duplicate" in report) == (not first_day)  # day two re-crawls day one
        plots = {a.path for a in client.list_artifacts(run.info.run_id, "mixtures")}
        assert "mixtures/tokens_by_language.png" in plots
        assert run.data.metrics["mixture.documents"] == 3  # the three pages, scored once
        recipe = client.download_artifacts(run.info.run_id, "mixtures/recipe.json", tmp_path)
        with open(recipe, encoding="utf-8") as handle:
            assert json.load(handle)["params_version"] == run.data.params["mixture.params_version"]

    # Every kept page is scored on both criteria and has a domain; the mixture draws from them.
    scores = read_table(spark, SILVER_QUALITY_SCORES, settings)
    assert scores.groupBy("criterion").count().collect() and scores.count() == 3 * 2
    domains = read_table(spark, SILVER_DOMAINS, settings).collect()
    assert len(domains) == 3 and all(0 <= d["confidence"] <= 1 for d in domains)
    mixture = read_table(spark, mixture_table(settings.mixture.name), settings).collect()
    assert 1 <= len(mixture) <= 3 and all(m["copies"] >= 1 for m in mixture)


@pytest.mark.airflow
def test_a_failing_gate_stops_the_run_before_statistics(spark, pipeline_env, tmp_path):
    env, settings = pipeline_env
    # Nothing here reaches the domain stage: kmeans fits on first use, so no classifier trains.
    env = {**env, "THRESHER_DOMAIN_METHOD": "kmeans"}
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "broken.html").write_bytes(b"\xff\xfe not utf-8")  # nothing reaches bronze
    log = tmp_path / "dags-test.log"

    result = dags_test_subprocess(env, DATES[0], pages, log)

    output = log.read_text()
    assert result.returncode != 0
    assert "GateFailed" in output
    assert "expect_table_row_count_to_be_between" in output
    for downstream in ("dedup", "quality", "domains", "mixture", "stage_statistics"):
        assert f"[DAG TEST] starting task_id={downstream} " not in output
    client = tracking.client(settings)
    (run,) = client.search_runs(
        [tracking.experiment_id(settings)], "tags.`thresher.via` = 'airflow'"
    )
    assert run.info.status == "FAILED"
    assert "bronze.documents" not in run.data.metrics
