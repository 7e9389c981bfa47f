"""The ``thresher`` command runs the jobs without Airflow.

``thresher curate`` (every stage into one MLflow run) is checked on the second day of the
curation DAG's test lake, tests/dags/test_curation_dag.py: a whole pipeline run takes minutes.
"""

from __future__ import annotations

import json

from spark_jobs import cli
from spark_jobs.delta_io import read_table
from tests.corpus import html_page
from tests.reliability.inputs import english
from thresher import tracking
from thresher.config import Settings
from thresher.tables import QUARANTINE


def test_config_prints_the_effective_settings(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    monkeypatch.setenv("THRESHER_LANGUAGES", "en,de")
    assert cli.main(["config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["languages"] == "en,de"
    assert printed["storage_root"] == str(tmp_path.resolve() / "lake")


def test_gate_on_an_empty_partition_exits_non_zero(spark, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    assert cli.main(["gate", "--date", "2026-11-21"]) == 3
    assert "expect_table_row_count_to_be_between" in capsys.readouterr().err


def test_a_job_command_runs_its_gate_on_what_it_wrote(spark, monkeypatch, tmp_path, capsys):
    """``thresher ingest`` validates bronze before it reports success: a partition whose only
    page is quarantined fails the bronze gate (exit 3), the quarantine row kept."""
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "broken.html").write_bytes(b"\xff\xfe not utf-8")
    assert cli.main(["ingest", "--date", "2026-11-22", "--input", str(pages)]) == 3
    err = capsys.readouterr().err
    assert "gate bronze_documents on 2026-11-22" in err
    assert "expect_table_row_count_to_be_between" in err
    settings = Settings.from_env()
    assert read_table(spark, QUARANTINE, settings).count() == 1


def test_a_missing_input_is_one_line_and_a_failed_run(spark, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    code = cli.main(
        [
            "ingest",
            "--date",
            "2026-11-21",
            "--input",
            str(tmp_path / "nowhere"),
            "--run-key",
            "missing",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"thresher: ingest: input path does not exist: {tmp_path / 'nowhere'}"
    settings = Settings.from_env()
    run = tracking.client(settings).get_run(tracking.open_run(settings, "missing"))
    assert run.info.status == "FAILED"


def test_two_sources_can_share_one_run_key(spark, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path))
    for source in ("blog", "forum"):
        folder = tmp_path / source
        folder.mkdir()
        (folder / "p.html").write_text(html_page(source, english(len(source))))
        code = cli.main(
            ["ingest", "--date", "2026-11-21", "--input", str(folder), "--run-key", "shared"]
        )
        assert code == 0, capsys.readouterr().err
    settings = Settings.from_env()
    run = tracking.client(settings).get_run(tracking.open_run(settings, "shared"))
    assert run.data.params["ingest.source"] == "blog"  # the run's first source
    assert run.data.tags["thresher.sources"] == "blog,forum"
