"""One factory for every model task: a pod on Kubernetes, a local process otherwise.

Both modes run the same command (``python -m <module> <arguments>``) with the same
environment variable names; only where files live differs (a mounted claim or an object
store in a pod, ``THRESHER_HOME`` locally). Credentials never appear here: pods read them
from Kubernetes Secrets by reference, local processes inherit them from the worker's
environment (only the allow-listed variables, ``local_process.INHERITED_ENV``). Both stop at
``execution_timeout`` (default ``THRESHER_AIRFLOW_MODEL_TASK_TIMEOUT_SECONDS``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from thresher import object_store
from thresher.config import SETTINGS_ENV, Settings
from thresher.entrypoint import RESULT_PATH_ENV
from thresher_tasks.local_process import POD_RESULT_PATH, LocalProcessOperator

POD_HOME = "/tmp/thresher"


@dataclass(frozen=True)
class Resources:
    """What one task asks of a node. ``gpus`` become an ``nvidia.com/gpu`` limit in a pod."""

    gpus: int = 0
    cpu: str = "2"
    memory: str = "8Gi"
    # Size of the pod's /dev/shm (torch DataLoader workers share batches through it).
    shared_memory: str = "2Gi"


def task_environment(settings: Settings, *, in_pod: bool) -> dict[str, str]:
    """What an entry point reads its settings from: the resolved settings as one JSON
    document (``THRESHER_SETTINGS``), the same in both modes except where files live (the
    pod's home and mounted checkpoint claim). Secrets are not in it: a pod reads them from
    Kubernetes Secrets, a local process from the worker's MLFLOW_*, AWS_* and tracking-URI
    variables (``local_process.INHERITED_ENV``)."""
    if in_pod:
        settings = dataclasses.replace(
            settings, home=Path(POD_HOME), checkpoint_root=settings.kubernetes.checkpoint_mount
        )
    return {SETTINGS_ENV: settings.to_json(), "PYTHONUNBUFFERED": "1"}


def model_task(
    *,
    task_id: str,
    module: str,
    settings: Settings,
    arguments: Sequence[str] | None = None,
    expand_arguments: Any = None,
    resources: Resources | None = None,
    **operator_kwargs: Any,
):
    """Build the task that runs ``python -m module arguments`` where the platform runs models.

    ``arguments`` is templated (``{{ ds }}`` carries the run's partition). Pass
    ``expand_arguments`` (a list of argument lists, or an XComArg) instead for one mapped task
    instance per argument list. Other keyword arguments (``pool``, ``retries``, …) go to the
    operator unchanged.
    """
    if not re.fullmatch(r"[A-Za-z_][\w.]*", module):
        raise ValueError(f"module must be a dotted Python module name, got {module!r}")
    if arguments is not None and expand_arguments is not None:
        raise ValueError("pass arguments or expand_arguments, not both")
    resources = resources or Resources()
    operator_kwargs.setdefault(
        "execution_timeout", timedelta(seconds=settings.airflow.model_task_timeout_seconds)
    )
    cmds = ["python", "-m", module]
    if settings.executor == "kubernetes":
        operator_class = _pod_operator_class()
        kwargs = _pod_kwargs(task_id, module, settings, resources)
    else:
        operator_class = LocalProcessOperator
        kwargs = {"env_vars": task_environment(settings, in_pod=False)}
    kwargs.update(operator_kwargs)
    if expand_arguments is not None:
        return operator_class.partial(task_id=task_id, cmds=cmds, **kwargs).expand(
            arguments=expand_arguments
        )
    return operator_class(task_id=task_id, cmds=cmds, arguments=list(arguments or []), **kwargs)


def _pod_operator_class():
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    return KubernetesPodOperator


def _pod_kwargs(task_id: str, module: str, settings: Settings, resources: Resources) -> dict:
    from kubernetes.client import models as k8s

    kube = settings.kubernetes
    limits = {"cpu": resources.cpu, "memory": resources.memory}
    requests = dict(limits)
    if resources.gpus:
        # Extended resources are requested by their limit alone.
        limits["nvidia.com/gpu"] = str(resources.gpus)
    env = task_environment(settings, in_pod=True)
    env[RESULT_PATH_ENV] = POD_RESULT_PATH
    # The scheduler's endpoint and region (an on-premises store, a region other than the
    # default), so deltalake in the pod reads the lake the Spark jobs wrote.
    env.update(object_store.location_environment())
    volumes = [
        k8s.V1Volume(
            name="checkpoints",
            persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                claim_name=kube.checkpoint_claim
            ),
        ),
        k8s.V1Volume(name="scratch", empty_dir=k8s.V1EmptyDirVolumeSource()),
        k8s.V1Volume(
            name="dshm",
            empty_dir=k8s.V1EmptyDirVolumeSource(
                medium="Memory", size_limit=resources.shared_memory
            ),
        ),
    ]
    mounts = [
        k8s.V1VolumeMount(name="checkpoints", mount_path=kube.checkpoint_mount),
        k8s.V1VolumeMount(name="scratch", mount_path="/tmp"),
        k8s.V1VolumeMount(name="dshm", mount_path="/dev/shm"),
    ]
    if kube.lake_claim:
        volumes.append(
            k8s.V1Volume(
                name="lake",
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                    claim_name=kube.lake_claim
                ),
            )
        )
        mounts.append(k8s.V1VolumeMount(name="lake", mount_path=settings.storage_root))
    gpu_placement = {}
    if resources.gpus:
        gpu_placement = {
            "node_selector": dict(kube.gpu_node_selector),
            "tolerations": [parse_toleration(t) for t in kube.gpu_tolerations],
        }
    return {
        "name": re.sub(r"[^a-z0-9-]+", "-", task_id.lower()).strip("-")[:50] or "model-task",
        "namespace": kube.namespace,
        "image": kube.gpu_image,
        "image_pull_policy": kube.image_pull_policy,
        "service_account_name": kube.service_account,
        "env_vars": [k8s.V1EnvVar(name=k, value=v) for k, v in env.items()] + _secret_env(kube),
        "container_resources": k8s.V1ResourceRequirements(limits=limits, requests=requests),
        "volumes": volumes,
        "volume_mounts": mounts,
        "labels": {
            "app.kubernetes.io/part-of": "thresher",
            "app.kubernetes.io/component": "model-task",
            "thresher.io/entry-point": module.replace("_", "-")[:63],
            # What pod_specs checks the GPU limit against.
            "thresher.io/gpus": str(resources.gpus),
        },
        "security_context": k8s.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=kube.run_as_user,
            run_as_group=kube.run_as_user,
            fs_group=kube.run_as_user,
            seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
        ),
        "container_security_context": k8s.V1SecurityContext(
            allow_privilege_escalation=False,
            capabilities=k8s.V1Capabilities(drop=["ALL"]),
        ),
        # Airflow 3.3's name for reattach_on_restart: a restarted worker picks the running pod
        # up again instead of starting a second one.
        "durable": True,
        "get_logs": True,
        "log_events_on_failure": True,
        "do_xcom_push": True,
        "on_finish_action": kube.on_finish_action,
        "startup_timeout_seconds": kube.startup_timeout_seconds,
        **gpu_placement,
    }


def _secret_env(kube) -> list:
    """Credentials by reference to Kubernetes Secrets; the object store's are optional."""
    from kubernetes.client import models as k8s

    def ref(name: str, secret: str, key: str, optional: bool) -> k8s.V1EnvVar:
        return k8s.V1EnvVar(
            name=name,
            value_from=k8s.V1EnvVarSource(
                secret_key_ref=k8s.V1SecretKeySelector(name=secret, key=key, optional=optional)
            ),
        )

    return [
        ref("THRESHER_TRACKING_TRACKING_URI", kube.mlflow_secret, "tracking_uri", False),
        ref("MLFLOW_TRACKING_USERNAME", kube.mlflow_secret, "username", True),
        ref("MLFLOW_TRACKING_PASSWORD", kube.mlflow_secret, "password", True),
        ref("AWS_ACCESS_KEY_ID", kube.object_store_secret, "access_key_id", True),
        ref("AWS_SECRET_ACCESS_KEY", kube.object_store_secret, "secret_access_key", True),
    ]


def parse_toleration(spec: str):
    """``key[=value]:Effect`` → V1Toleration (no value: operator Exists)."""
    from kubernetes.client import models as k8s

    taint, sep, effect = spec.rpartition(":")
    if not sep or not taint or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ValueError(f"toleration must be key[=value]:Effect, got {spec!r}")
    key, has_value, value = taint.partition("=")
    if has_value:
        return k8s.V1Toleration(key=key, operator="Equal", value=value, effect=effect)
    return k8s.V1Toleration(key=key, operator="Exists", effect=effect)


def tokenizer_task(settings: Settings, corpus: str, output: str, vocab_size: str):
    """The ``train_tokenizer`` model task: a BPE of ``vocab_size`` trained on ``corpus``."""
    return model_task(
        task_id="train_tokenizer",
        module="models.pretrain.tokenizer",
        settings=settings,
        arguments=["--corpus", corpus, "--output", output, "--vocab-size", vocab_size],
        resources=Resources(cpu="4", memory="8Gi"),
    )
