"""The operators Thresher's DAGs build their model tasks with.

``model_task`` is the one factory: a ``KubernetesPodOperator`` when the platform runs on
Kubernetes, a ``LocalProcessOperator`` running the same command otherwise.
"""

from thresher.entrypoint import RESULT_PATH_ENV
from thresher_tasks.local_process import LocalProcessOperator
from thresher_tasks.model_task import Resources, model_task, task_environment

__all__ = [
    "RESULT_PATH_ENV",
    "LocalProcessOperator",
    "Resources",
    "model_task",
    "task_environment",
]
