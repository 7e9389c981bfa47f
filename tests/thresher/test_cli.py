"""The ``thresher`` command runs the jobs without Airflow."""

from __future__ import annotations

import json

from tests.corpus import html_page, ntrex_documents
from thresher import cli, tracking
from thresher.config import Settings


def test_config_prints_the_effective_settings(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    monkeypatch.setenv("THRESHER_LANGUAGES", "en,de")
    assert cli.main(["config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["languages"] == "en,de"
    assert printed["storage_root"] == str(tmp_path.resolve() / "lake")


# Few labelled items and classifier features: the models train in seconds.
SMALL_MODELS = {
    "THRESHER_LANGUAGES": "en,es,ko",
    "THRESHER_DOMAIN_LABELS_PER_LANGUAGE": "12",
    "THRESHER_QUALITY_CLASSIFIER_FEATURES": "4096",
    "THRESHER_QUALITY_CLASSIFIER_MAX_ITER": "20",
}


def test_curate_runs_every_stage_into_one_mlflow_run(
    spark, shared_data, monkeypatch, tmp_path, capsys
):
    pages = tmp_path / "pages"
    pages.mkdir()
    for code in ("spa", "kor"):
        text = ntrex_documents(shared_data, code, 1)[0]
        (pages / f"{code}.html").write_text(html_page(code, text), "utf-8")
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path / "home"))
    for name, value in SMALL_MODELS.items():
        monkeypatch.setenv(name, value)

    code = cli.main(["curate", "--date", "2026-11-20", "--input", str(pages), "--run-key", "k1"])

    assert code == 0
    summary = json.loads(capsys.readouterr().out.split("MLflow run")[0])
    assert summary["bronze"]["languages"] == {"es": 1, "ko": 1}
    settings = Settings.from_env()
    run_id = tracking.open_run(settings, "k1")  # found again, not created
    run = tracking.client(settings).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["ingest.kept"] == 2
    assert run.data.params["ingest.source"] == "pages"
    for gate in cli.GATES:
        assert run.data.metrics[f"gate.{gate}.success"] == 1, gate
    assert run.data.metrics["mixture.documents"] == 2
    recipe = tracking.client(settings).download_artifacts(run_id, "mixtures/recipe.json")
    with open(recipe, encoding="utf-8") as handle:
        assert json.load(handle)["params_version"] == run.data.params["mixture.params_version"]


def test_gate_on_an_empty_partition_exits_non_zero(spark, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    assert cli.main(["gate", "--date", "2026-11-21"]) == 3
    assert "expect_table_row_count_to_be_between" in capsys.readouterr().err
