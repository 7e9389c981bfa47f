"""What every model entry point shares: its exit contract, its result, its MLflow run.

An entry point (``python -m models.<x> ...``) runs the same way as a local process and in a
pod. ``run_entry_point`` gives it one contract: a ``BadInput`` error exits with code 2 and a
one-line message naming what is wrong (no traceback); the JSON result (paths and counts) is
printed and written to ``THRESHER_RESULT_PATH`` when set, which the task's operator returns
as its XCom. Training loops never import mlflow: they call a ``Tracker``, and
``open_tracker`` decides whether that is an MLflow run (the default) or nothing
(``THRESHER_TRACKING_TRACKING_URI=off``, for a machine without a tracking server).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from thresher.config import Settings

RESULT_PATH_ENV = "THRESHER_RESULT_PATH"
BAD_INPUT_EXIT_CODE = 2


class BadInput(Exception):
    """The entry point's input is missing or malformed; the message says which and how."""


def run_entry_point(main: Callable[[Sequence[str]], dict], argv: Sequence[str] | None = None):
    """Run ``main(argv)``, publish its result, and turn ``BadInput`` into exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    die_with_parent()
    try:
        result = main(argv)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(BAD_INPUT_EXIT_CODE) from None
    text = json.dumps(result, default=str, sort_keys=True)
    print(text)
    target = os.environ.get(RESULT_PATH_ENV)
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text)
    return result


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place: a reader (or a retried task
    checking for a finished marker) never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)


def finished_or_run(marker: Path, run: Callable[[], dict]) -> dict:
    """The result a finished task left in ``marker`` (``resumed``: true), or ``run()``'s,
    written to ``marker`` atomically before ``resumed``: false is added: a retried or
    re-run task returns a finished result without redoing it."""
    if marker.is_file():
        return {**json.loads(marker.read_text()), "resumed": True}
    result = run()
    write_atomic(marker, json.dumps(result, indent=2, sort_keys=True))
    return {**result, "resumed": False}


def task_path(value: str, settings: Settings) -> Path:
    """A path a model task reads: relative paths live under ``checkpoint_root``.

    DAGs pass relative paths (``pretrain/default/2026-01-01``) so that one argument list
    means the checkpoint claim in a pod and ``<home>/checkpoints`` locally.
    """
    if "://" in value:
        raise BadInput(f"{value}: model outputs are files on a volume, not object-store URIs")
    path = Path(value)
    return path if path.is_absolute() else Path(settings.checkpoint_root) / path


def task_output(value: str, settings: Settings) -> Path:
    """A path a model task writes: it must resolve inside ``checkpoint_root`` (no absolute
    path elsewhere, no ``..`` out of it), so an argument can never make a task write over
    something else on the volume or the machine."""
    root = Path(settings.checkpoint_root).resolve()
    path = task_path(value, settings).resolve()
    if not path.is_relative_to(root):
        raise BadInput(
            f"output {value!r} resolves to {path}, outside the checkpoint root {root}: "
            "give a path relative to it (or set THRESHER_CHECKPOINT_ROOT)"
        )
    return path


def write_table_output(frame, folder: str, settings: Settings, name: str) -> Path:
    """``frame`` (a pandas DataFrame) as the Parquet file ``name`` in the task's output
    folder ``folder`` (``task_output``), made if missing; the file's path."""
    output = task_output(folder, settings)
    output.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(output / name, index=False)
    return output / name


# Set by LocalProcessOperator: the worker's pid, so the task dies with the worker.
PARENT_PID_ENV = "THRESHER_PARENT_PID"


def die_with_parent() -> None:
    """Ask Linux to kill this process when the process that started it dies (a killed Airflow
    worker must not leave a training run behind), and exit now if it already has."""
    expected = os.environ.get(PARENT_PID_ENV)
    if not expected or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(expected):  # the parent died before prctl took effect
        os._exit(1)


class Tracker:
    """Where a loop reports. This base class records nothing (tracking off)."""

    run_id: str | None = None

    def log_params(self, params: Mapping[str, object]) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        pass

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        pass

    def finish(self, status: str = "FINISHED") -> None:
        pass

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """``with tracker:`` ends the run FINISHED, or FAILED when anything (an interrupt
        too) leaves the block; the exception goes on."""
        self.finish("FINISHED" if kind is None else "FAILED")


class MlflowTracker(Tracker):
    def __init__(self, settings: Settings, run_id: str) -> None:
        self.settings = settings
        self.run_id = run_id

    def log_params(self, params: Mapping[str, object]) -> None:
        from thresher import tracking

        tracking.log_new_params(self.settings, self.run_id, params)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from thresher import tracking

        tracking.log_metrics(self.settings, self.run_id, metrics, step=step)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        from thresher import tracking

        client = tracking.client(self.settings)
        if Path(path).is_dir():
            client.log_artifacts(self.run_id, str(path), artifact_path)
        else:
            client.log_artifact(self.run_id, str(path), artifact_path)

    def finish(self, status: str = "FINISHED") -> None:
        from thresher import tracking

        tracking.finish_run(self.settings, self.run_id, status)


def tracking_enabled(settings: Settings) -> bool:
    return settings.tracking.tracking_uri.lower() not in ("off", "none")


def open_tracker(
    settings: Settings,
    run_key: str,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    parent_run_id: str = "",
) -> Tracker:
    """The MLflow run for ``run_key`` (the same one again after a restart), or no tracking;
    a child of the run ``parent_run_id`` when one is given."""
    if not tracking_enabled(settings):
        return Tracker()
    from thresher import tracking

    if parent_run_id:
        tags = {**(tags or {}), "mlflow.parentRunId": parent_run_id}

    return MlflowTracker(settings, tracking.open_run(settings, run_key, run_name, tags))


def open_task_tracker(
    settings: Settings,
    experiment: str,
    task: str,
    output: Path,
    run_name: str,
    parent_run_id: str = "",
    tags: Mapping[str, str] | None = None,
) -> Tracker:
    """The run of one task of an experiment (a cell, a proxy, an arm, a regression), a child
    of the experiment's parent run when there is one. Its key is the experiment, the parent
    and the task's output folder, so a retried task logs to its run again."""
    key = f"{experiment}/{parent_run_id or 'standalone'}/{task}/{output}"
    return open_tracker(settings, key, run_name, tags, parent_run_id)
