"""The entry point end to end with the tiny LLaMA: outputs, re-runs, MLflow, bad input."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("transformers", reason="needs the 'ml' extra (torch, transformers)")

from models.mubench import evaluate
from thresher.corpora.items import Item, write_items
from thresher.entrypoint import run_entry_point

PACKAGE = Path(evaluate.__file__).parent


def run_main(tiny_lm, output, *extra):
    argv = ["--model", str(tiny_lm), "--tokenizer", str(tiny_lm), "--output", str(output)]
    return run_entry_point(evaluate.main, [*argv, *extra])


def test_end_to_end_on_real_items(tiny_lm, shared_data, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("THRESHER_RESULT_PATH", str(tmp_path / "result.json"))
    monkeypatch.setenv("THRESHER_CHECKPOINT_ROOT", str(tmp_path))
    mlflow_before = "mlflow" in sys.modules
    output = tmp_path / "out"
    args = ("--items", "xcopa,sib200,xquad", "--languages", "th", "tr", "--limit", "2")
    result = run_main(tiny_lm, output, *args, "--data-root", str(shared_data))
    assert result == {
        "predictions": str(output / "predictions.parquet"),
        "metrics": str(output / "metrics.json"),
        "items": 12,
        "tasks": {"sib200": 4, "xcopa": 4, "xquad": 4},
        "mlflow_run_id": None,
    }
    assert json.loads((tmp_path / "result.json").read_text(encoding="utf-8")) == result

    predictions = pd.read_parquet(output / "predictions.parquet")
    assert len(predictions) == 3 * 2 * 2  # tasks x languages x items
    assert set(predictions["language"]) == {"th", "tr"}
    counts = predictions.groupby("task")["item_id"].nunique().to_dict()
    assert counts == {"sib200": 2, "xcopa": 2, "xquad": 2}
    sib = predictions[predictions["task"] == "sib200"]
    assert sib["option_logprobs"].map(len).eq(7).all()
    assert predictions["option_logprobs"].map(lambda v: all(x < 0 for x in v)).all()
    # The XQuAD paragraphs are longer than the tiny model's 256 positions: scored in windows.
    assert predictions.loc[predictions["task"] == "xquad", "option_tokens"].str[0].gt(256).all()

    report = json.loads((output / "metrics.json").read_text(encoding="utf-8"))
    assert report["settings"]["n_items"] == 12 and report["settings"]["limit"] == 2
    xcopa = report["tasks"]["xcopa"]
    th = predictions[(predictions["task"] == "xcopa") & (predictions["language"] == "th")]
    assert xcopa["languages"]["th"]["acc"] == (th["predicted"] == th["answer"]).mean()
    assert xcopa["languages"]["th"]["n"] == 2
    assert xcopa["mlc"]["acc"]["pairs"] == 1  # th-tr
    assert xcopa["mlc"]["acc"]["vs_reference"] == {}  # XCOPA has no English
    assert report["tasks"]["xquad"]["kind"] == "perplexity"
    assert report["tasks"]["xquad"]["languages"]["th"]["bits_per_byte"] > 0

    # A re-run replaces the outputs with the same content.
    assert run_main(tiny_lm, output, *args, "--data-root", str(shared_data)) == result
    again = pd.read_parquet(output / "predictions.parquet")
    pd.testing.assert_frame_equal(again, predictions)
    assert json.loads((output / "metrics.json").read_text(encoding="utf-8")) == report
    assert sorted(p.name for p in output.iterdir()) == ["metrics.json", "predictions.parquet"]
    if not mlflow_before:
        assert "mlflow" not in sys.modules


def test_evaluation_code_never_imports_mlflow():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "mlflow" for n in names), path.name


def aligned_items(path, languages=("en", "de")):
    write_items(
        [
            Item("t", str(i), lang, "The cat sat on the", (" mat.", " moon."), 0)
            for lang in languages
            for i in range(3)
        ],
        path,
    )
    return path


def test_logs_to_mlflow_when_the_tracking_uri_is_set(tiny_lm, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "mubench-test")
    monkeypatch.setenv("THRESHER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("THRESHER_CHECKPOINT_ROOT", str(tmp_path))
    items = aligned_items(tmp_path / "items.jsonl")
    output = tmp_path / "out"
    first = run_main(tiny_lm, output, "--items", str(items), "--run-key", "mubench/test")
    # A retry logs into the same run.
    again = run_main(tiny_lm, output, "--items", str(items), "--run-key", "mubench/test")
    assert first["mlflow_run_id"] == again["mlflow_run_id"] is not None
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("mubench-test")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.tags["thresher.run_key"] == "mubench/test"
    assert run.data.params["mubench.n_items"] == "6"
    report = json.loads((output / "metrics.json").read_text(encoding="utf-8"))
    metrics = run.data.metrics
    assert metrics["mubench.t.de.acc"] == report["tasks"]["t"]["languages"]["de"]["acc"]
    mlc = report["tasks"]["t"]["mlc"]["acc"]
    assert metrics["mubench.t.mlc.acc.mean_pairwise"] == mlc["mean_pairwise"]
    assert metrics["mubench.t.mlc.acc.vs_en.de"] == mlc["vs_reference"]["de"]["mlc"]
    logged = client.download_artifacts(run.info.run_id, "mubench/metrics.json", str(tmp_path))
    assert json.loads(Path(logged).read_text(encoding="utf-8"))["tasks"] == report["tasks"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_model", "--model path does not exist"),
        ("not_a_model", "cannot load the model or tokenizer"),
        ("unknown_items", "'copa' is neither an existing path nor built-in sets"),
        ("empty_items", "holds no items"),
        ("misaligned_items", "misaligned items: t/de: 1 item_id(s)"),
        ("unknown_language", "unknown language(s) fr; the items have de, en"),
        ("malformed_items", "items.jsonl:1: answer must index options"),
        ("bad_max_length", "--max-length must be at least 2, got 1"),
    ],
)
def test_bad_input_exits_2_with_a_message(tiny_lm, tmp_path, capsys, case, message, monkeypatch):
    monkeypatch.setenv("THRESHER_CHECKPOINT_ROOT", str(tmp_path))
    items = aligned_items(tmp_path / "items.jsonl")
    model, extra = str(tiny_lm), []
    if case == "missing_model":
        model = str(tmp_path / "absent")
    elif case == "not_a_model":
        model = str(tmp_path / "empty_folder")
        Path(model).mkdir()
    elif case == "unknown_items":
        items = "copa"
    elif case == "empty_items":
        items.write_text("", encoding="utf-8")
    elif case == "misaligned_items":
        lines = items.read_text(encoding="utf-8").splitlines()
        items.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    elif case == "unknown_language":
        extra = ["--languages", "fr", "de"]
    elif case == "bad_max_length":
        extra = ["--max-length", "1"]
    elif case == "malformed_items":
        items.write_text('{"task": "t", "item_id": "1", "language": "en", "context": "",'
                         ' "options": [" a", " b"], "answer": 5}\n', encoding="utf-8")  # fmt: skip
    argv = ["--model", model, "--items", str(items), "--output", str(tmp_path / "out"), *extra]
    with pytest.raises(SystemExit) as exit_:
        run_entry_point(evaluate.main, argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "out" / "metrics.json").exists()
