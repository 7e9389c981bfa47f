"""Platform settings: where Spark runs, where runs are tracked, how Airflow retries and
where model tasks run on Kubernetes. Nothing here is a credential."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from thresher.settings.errors import ConfigError, require_one_of

EXECUTORS = ("local", "kubernetes")


# sc://host:port, nothing after: no token or parameters travel in an environment variable.
CONNECT_URL = re.compile(r"sc://([A-Za-z0-9.-]+):([0-9]{1,5})")


@dataclass(frozen=True)
class SparkSettings:
    master: str = "local[*]"
    shuffle_partitions: int = 8
    driver_memory: str = "4g"
    # The Airflow connection of a Spark cluster: when ``master`` is not local[*], the curation
    # DAG submits its jobs through SparkSubmitOperator with it.
    connection_id: str = "spark_default"
    # Extra Spark properties, "key=value" pairs separated by ";" in the environment.
    conf: Mapping[str, str] = field(default_factory=dict)
    # A Spark Connect server (sc://host:port) the jobs use instead of each starting a driver:
    # one warm driver for a whole DAG run. ``thresher connect-server`` serves this lake on it
    # (make demo starts one); jobs that fit Spark ML pipelines still start their own driver.
    remote: str = ""

    def __post_init__(self) -> None:
        url = CONNECT_URL.fullmatch(self.remote)
        if self.remote and not (url and 0 < int(url.group(2)) < 65536):
            raise ConfigError(
                f"spark.remote must look like sc://host:port (port 1-65535), got {self.remote!r}"
            )

    @property
    def connect_address(self) -> tuple[str, int]:
        """(host, port) of ``remote``."""
        host, port = CONNECT_URL.fullmatch(self.remote).groups()
        return host, int(port)


@dataclass(frozen=True)
class TrackingSettings:
    # Empty means "a SQLite file under THRESHER_HOME".
    tracking_uri: str = ""
    artifact_root: str = ""
    experiment: str = "thresher-curation"


@dataclass(frozen=True)
class AirflowSettings:
    # Retries for tasks that can fail transiently (a lost executor, a busy metastore).
    task_retries: int = 2
    retry_delay_seconds: int = 120
    # A model task (pod or local process) running longer than this is stopped and fails.
    model_task_timeout_seconds: int = 24 * 3600


ON_FINISH_ACTIONS = ("delete_pod", "delete_succeeded_pod", "keep_pod", "delete_active_pod")


@dataclass(frozen=True)
class KubernetesSettings:
    """Where model tasks run when ``executor`` is ``kubernetes`` (KubernetesPodOperator).

    Nothing here is a credential: pods read MLflow and object-store credentials from the
    Kubernetes Secrets named below, which the cluster's operators create.
    """

    namespace: str = "thresher"
    service_account: str = "thresher-worker"
    gpu_image: str = "ghcr.io/thresher-data/thresher-gpu:0.1.0"
    image_pull_policy: str = "IfNotPresent"
    # Node labels GPU pods must match, "key=value;key=value" in the environment.
    gpu_node_selector: Mapping[str, str] = field(
        default_factory=lambda: {"nvidia.com/gpu.present": "true"}
    )
    # Taints GPU pods tolerate: "key[=value]:Effect" (no value = operator Exists).
    gpu_tolerations: tuple[str, ...] = ("nvidia.com/gpu:NoSchedule",)
    # PersistentVolumeClaim mounted at checkpoint_mount for checkpoints and model outputs.
    checkpoint_claim: str = "thresher-checkpoints"
    checkpoint_mount: str = "/checkpoints"
    # A claim mounted at storage_root, for a lake on a shared volume; empty when the lake is
    # an object-store URI (credentials then come from object_store_secret).
    lake_claim: str = ""
    mlflow_secret: str = "thresher-mlflow"
    object_store_secret: str = "thresher-object-store"
    on_finish_action: str = "delete_succeeded_pod"
    startup_timeout_seconds: int = 900
    run_as_user: int = 1000

    def __post_init__(self) -> None:
        require_one_of("kubernetes.on_finish_action", self.on_finish_action, ON_FINISH_ACTIONS)
