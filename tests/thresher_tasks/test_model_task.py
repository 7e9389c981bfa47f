"""The factory builds the same command for a pod and a local process; the local one runs it."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from airflow.exceptions import AirflowException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

from thresher.config import Settings
from thresher_tasks import LocalProcessOperator, Resources, model_task, task_environment
from thresher_tasks.model_task import parse_toleration

ARGS = ["--corpus", "/lake/gold/corpus_default", "--output", "pretrain/{{ ds }}"]


def _pod_env_names(op: KubernetesPodOperator) -> set[str]:
    return {e.name for e in op.env_vars}


def test_both_modes_run_one_command_with_the_same_settings(tmp_path):
    local = Settings(home=tmp_path, storage_root="s3a://lake/thresher")
    pod = Settings(home=tmp_path, storage_root="s3a://lake/thresher", executor="kubernetes")
    kwargs = dict(task_id="pretrain", module="models.pretrain.train", arguments=ARGS)
    here = model_task(settings=local, **kwargs)
    there = model_task(settings=pod, resources=Resources(gpus=1), **kwargs)

    assert isinstance(here, LocalProcessOperator)
    assert isinstance(there, KubernetesPodOperator)
    assert here.cmds == there.cmds == ["python", "-m", "models.pretrain.train"]
    assert here.arguments == there.arguments == ARGS
    assert set(here.env_vars) <= _pod_env_names(there)
    pod_values = {e.name: e.value for e in there.env_vars if e.value is not None}
    local_settings = json.loads(here.env_vars["THRESHER_SETTINGS"])
    pod_settings = json.loads(pod_values["THRESHER_SETTINGS"])
    for section in ("home", "checkpoint_root", "executor"):  # where files live, and the mode
        local_settings.pop(section), pod_settings.pop(section)
    assert pod_settings == local_settings
    pod = Settings.from_env({"THRESHER_SETTINGS": pod_values["THRESHER_SETTINGS"]})
    assert pod.checkpoint_root == "/checkpoints" and pod.storage_root == "s3a://lake/thresher"
    assert here.command()[0] == sys.executable  # the worker's interpreter, not PATH's python


def test_gpu_pods_carry_limit_placement_and_no_literal_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://store.internal:9000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-a-literal")
    settings = Settings(home=tmp_path, executor="kubernetes")
    op = model_task(
        task_id="t", module="models.pretrain.train", settings=settings, arguments=[],
        resources=Resources(gpus=2, cpu="8", memory="32Gi"),
    )  # fmt: skip
    assert op.container_resources.limits["nvidia.com/gpu"] == "2"
    assert op.node_selector == {"nvidia.com/gpu.present": "true"}
    assert [t.key for t in op.tolerations] == ["nvidia.com/gpu"]
    secrets = {e.name: e.value_from.secret_key_ref for e in op.env_vars if e.value_from}
    assert secrets["THRESHER_TRACKING_TRACKING_URI"].name == "thresher-mlflow"
    assert secrets["AWS_SECRET_ACCESS_KEY"].name == "thresher-object-store"
    literals = {e.name: e.value for e in op.env_vars if not e.value_from}
    assert literals["AWS_ENDPOINT_URL"] == "http://store.internal:9000"
    assert "never-a-literal" not in repr(op.env_vars)
    assert op.reattach_on_restart is True
    assert op.on_finish_action.value == "delete_succeeded_pod"
    cpu_only = model_task(task_id="c", module="m.x", settings=settings, arguments=[])
    assert "nvidia.com/gpu" not in cpu_only.container_resources.limits
    assert not cpu_only.tolerations


def test_mapped_tasks_expand_over_argument_lists(tmp_path):
    from airflow.sdk import DAG

    with DAG("mapped", schedule=None):
        mapped = model_task(
            task_id="proxies", module="models.pretrain.train",
            settings=Settings(home=tmp_path), expand_arguments=[["--seed", "1"], ["--seed", "2"]],
        )  # fmt: skip
    assert mapped._get_specified_expand_input().value["arguments"] == [
        ["--seed", "1"],
        ["--seed", "2"],
    ]
    with pytest.raises(ValueError, match="not both"):
        model_task(
            task_id="x", module="a.b", settings=Settings(home=tmp_path),
            arguments=[], expand_arguments=[[]],
        )  # fmt: skip
    with pytest.raises(ValueError, match="module"):
        model_task(task_id="x", module="a b; rm -rf /", settings=Settings(home=tmp_path))


def test_tolerations_parse_key_value_and_effect():
    exists = parse_toleration("nvidia.com/gpu:NoSchedule")
    assert (exists.key, exists.operator, exists.effect) == (
        "nvidia.com/gpu",
        "Exists",
        "NoSchedule",
    )
    equal = parse_toleration("pool=gpu:NoExecute")
    assert (equal.key, equal.operator, equal.value) == ("pool", "Equal", "gpu")
    with pytest.raises(ValueError):
        parse_toleration("nvidia.com/gpu")


def test_local_process_returns_the_entry_points_result_as_xcom(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    lines = [{"text": f"Document {i} about rivers, bridges and the weather."} for i in range(40)]
    corpus.write_text("\n".join(json.dumps(line) for line in lines))
    op = model_task(
        task_id="tok", module="models.pretrain.tokenizer", settings=Settings(home=tmp_path),
        arguments=["--corpus", str(corpus), "--output", "tokenizers/t", "--vocab-size", "300"],
    )  # fmt: skip
    result = op.execute(context={})
    assert result["trained"] is True
    # the relative output landed under the checkpoint root
    assert result["tokenizer"] == str(tmp_path / "checkpoints" / "tokenizers" / "t")
    assert (tmp_path / "checkpoints" / "tokenizers" / "t" / "tokenizer.json").is_file()


def test_bad_input_fails_the_task_with_the_entry_points_message(tmp_path):
    op = model_task(
        task_id="tok", module="models.pretrain.tokenizer", settings=Settings(home=tmp_path),
        arguments=["--corpus", str(tmp_path / "missing"), "--output", "t"],
    )  # fmt: skip
    with pytest.raises(AirflowException, match=r"exited with code 2(.|\n)*missing does not exist"):
        op.execute(context={})


def test_task_environment_names_no_credentials(tmp_path):
    env = task_environment(Settings(home=tmp_path), in_pod=False)
    assert not [k for k in env if "PASSWORD" in k or "SECRET" in k or "TOKEN" in k]


def test_a_stopped_task_ends_its_process_group(monkeypatch):
    """Whatever stops execute() (Airflow's execution_timeout raises inside it), the process
    and its children do not outlive the task."""
    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    op = LocalProcessOperator(task_id="stuck", cmds=[sys.executable, "-c", script])

    def timeout(fmt, *args):
        if args == ("started",):  # the process is running: stop the task now
            raise TimeoutError("execution_timeout")

    monkeypatch.setattr(op.log, "info", timeout)
    monkeypatch.setattr("thresher_tasks.local_process.STOP_GRACE_SECONDS", 5)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        op.execute(context={})
    assert op._process.poll() is not None
    assert _running_in_group(op._process.pid) == []  # its child went with it
    assert time.monotonic() - started < 30


def test_model_tasks_stop_at_the_configured_timeout(tmp_path):
    settings = Settings.from_env(
        {"THRESHER_HOME": str(tmp_path), "THRESHER_AIRFLOW_MODEL_TASK_TIMEOUT_SECONDS": "600"}
    )
    op = model_task(
        task_id="t", module="models.pretrain.tokenizer", settings=settings, arguments=[]
    )
    assert op.execution_timeout.total_seconds() == 600


def _running_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are still running (zombies are already dead)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            running.append(int(stat.parent.name))
    return running
