"""Render the pods a DAG would start and check them without a cluster.

``render_pods`` builds each KubernetesPodOperator's pod the way the operator does at run time
(templates rendered for a logical date, labels from the run context); ``pod_problems`` checks
one rendered pod against the Kubernetes OpenAPI schema (``kubernetes-validate``, strict: an
unknown or mistyped field fails), the ``kubernetes`` client's models, and this platform's
rules: credentials only by Secret reference, a GPU limit wherever GPUs are declared, a
non-root security context, the run's identity in the labels.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

KUBERNETES_VERSION = "1.33.0"
GPUS_LABEL = "thresher.io/gpus"
RUN_LABELS = ("dag_id", "task_id", "run_id")
# Names an environment variable carrying a credential has; such a variable must be a reference.
_CREDENTIAL_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|ACCESS_KEY|API_KEY|TRACKING_URI")
# A URI with a password in it (scheme://user:password@host).
_URI_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


class UpstreamResult(str):
    """Stands in for an upstream task's XCom when none is given: ``['key']`` works on it."""

    def __getitem__(self, key):  # type: ignore[override]
        return UpstreamResult(f"{self}.{key}")


def render_pods(
    dag, logical_date: datetime | None = None, xcom: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """``{task_id: pod manifest}`` for every pod task of ``dag``, as it would run on that date.

    ``xcom`` gives upstream tasks' results (``{task_id: value}``) for templates that pull
    them; others render as ``xcom.<task_id>``. A mapped task is rendered for its first
    argument list.
    """
    xcom = xcom or {}

    def xcom_pull(task_ids=None, key="return_value", **_):
        return xcom.get(task_ids, UpstreamResult(f"xcom.{task_ids}"))

    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import ApiClient

    logical_date = logical_date or datetime(2026, 1, 1, tzinfo=UTC)
    run_id = f"scheduled__{logical_date.isoformat()}"
    pods = {}
    for task in dag.tasks:
        kind = getattr(task, "operator_class", type(task))
        if not (isinstance(kind, type) and issubclass(kind, KubernetesPodOperator)):
            continue
        operator = _unmapped(task, xcom_pull)
        context = {
            "dag": dag,
            "task": operator,
            "run_id": run_id,
            "logical_date": logical_date,
            "ds": logical_date.strftime("%Y-%m-%d"),
            "ds_nodash": logical_date.strftime("%Y%m%d"),
            "ts": logical_date.isoformat(),
            "params": dict(getattr(dag, "params", {}) or {}),
            "ti": SimpleNamespace(
                dag_id=dag.dag_id,
                task_id=task.task_id,
                map_index=-1,
                try_number=1,
                xcom_pull=xcom_pull,
            ),
        }
        operator.render_template_fields(context)
        pod = operator.build_pod_request_obj(context, dry_run=True)
        pods[task.task_id] = ApiClient().sanitize_for_serialization(pod)
    return pods


def _unmapped(task, xcom_pull):
    """A mapped task's operator, built with its first argument list: the first literal, or the
    first of what the upstream task returned (``xcom``; a placeholder list when none is given)."""
    from airflow.sdk import XComArg
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    if not isinstance(task, MappedOperator):
        return task
    values = dict(task._get_specified_expand_input().value)
    for key, value in values.items():
        if isinstance(value, XComArg):
            pulled = xcom_pull(task_ids=value.operator.task_id)
            values[key] = pulled if isinstance(pulled, list) else [[pulled]]
    first = {k: (v[0] if isinstance(v, list) and v else v) for k, v in values.items()}
    kwargs = {**task.partial_kwargs, **first}
    kwargs.pop("task_id", None)
    return task.operator_class(task_id=task.task_id, **kwargs)


def pod_problems(manifest: dict[str, Any]) -> list[str]:
    """Everything wrong with one rendered pod; an empty list means it may be submitted."""
    import kubernetes_validate
    from kubernetes import utils

    problems: list[str] = []
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        problems.append(f"schema: {exc.message} at {'/'.join(map(str, exc.path))}")
    try:
        _client_model(manifest)
    except (ValueError, TypeError) as exc:
        problems.append(f"kubernetes client model: {exc}")

    metadata = manifest.get("metadata", {})
    labels = metadata.get("labels") or {}
    problems += [f"label {k!r} missing (run identity)" for k in RUN_LABELS if k not in labels]
    problems += [
        f"label {k}={v!r} is not a valid label value"
        for k, v in labels.items()
        if len(str(v)) > 63 or not _LABEL_VALUE.fullmatch(str(v))
    ]

    spec = manifest.get("spec", {})
    pod_security = spec.get("securityContext") or {}
    if pod_security.get("runAsNonRoot") is not True:
        problems.append("pod securityContext.runAsNonRoot is not true")
    declared_gpus = int(labels.get(GPUS_LABEL, "0") or 0)
    for container in spec.get("containers", []):
        name = container.get("name")
        security = container.get("securityContext") or {}
        if name == "base" and security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"container {name}: allowPrivilegeEscalation is not false")
        for env in container.get("env") or []:
            if "value" in env and _CREDENTIAL_NAME.search(env["name"]):
                problems.append(f"container {name}: {env['name']} is a literal, not a Secret")
            if _URI_PASSWORD.search(str(env.get("value", ""))):
                problems.append(f"container {name}: {env['name']} holds a password literally")
        resources = container.get("resources") or {}
        for kind in ("limits", "requests"):
            for resource, quantity in (resources.get(kind) or {}).items():
                try:
                    utils.parse_quantity(quantity)
                except ValueError:
                    problems.append(f"container {name}: {kind}.{resource}={quantity!r}")
        if name == "base" and declared_gpus:
            limit = (resources.get("limits") or {}).get("nvidia.com/gpu")
            if limit is None:
                problems.append(f"container {name}: {declared_gpus} GPUs declared, no GPU limit")
            elif int(limit) != declared_gpus:
                problems.append(f"container {name}: GPU limit {limit} != {declared_gpus} declared")
    text = json.dumps(manifest)
    if _URI_PASSWORD.search(text):
        problems.append("a password appears literally in the pod spec")
    return problems


def _client_model(manifest: dict[str, Any]):
    """Load the manifest into kubernetes.client.V1Pod (required fields and enums checked)."""
    from kubernetes.client import ApiClient

    response = SimpleNamespace(data=json.dumps(manifest))
    return ApiClient().deserialize(response, "V1Pod")
