"""The ``thresher`` command runs the jobs without Airflow.

``thresher curate`` (every stage into one MLflow run) is checked on the second day of the
curation DAG's test lake, tests/dags/test_curation_dag.py: a whole pipeline run takes minutes.
"""

from __future__ import annotations

import json

from thresher import cli


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
