"""Pretraining: a mixture's training corpus → its tokenizer → a LLaMA-architecture model.

Triggered by hand or by another DAG (no schedule). ``training_corpus`` is a Spark job (the
mixture joined with its documents' text, a fixed held-out split); the tokenizer and the
model are model tasks: pods on Kubernetes (the model on a GPU), local processes on one
machine. Their output paths are relative, so they land under the checkpoint root wherever
the task runs; re-running the DAG resumes training from the last checkpoint.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from models.pretrain.sizes import SIZES
from thresher.config import Settings
from thresher_tasks import Resources, model_task
from thresher_tasks.dag_arguments import RUN_FOLDER, dag_arguments, mixture_param
from thresher_tasks.model_task import tokenizer_task

DAG_ID = "pretraining"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time

CORPUS_PATH = "{{ ti.xcom_pull(task_ids='training_corpus')['path'] }}"
MIXTURE_VERSION = "{{ ti.xcom_pull(task_ids='training_corpus')['corpus.mixture_version'] }}"
TOKENIZER = f"tokenizers/{{{{ params.mixture }}}}/v{MIXTURE_VERSION}"


@dag(
    **dag_arguments(
        DAG_ID,
        SETTINGS,
        description="Train a tokenizer and a LLaMA-architecture model on a curated mixture.",
        tags=["pretraining", "gpu", "mlflow"],
        doc_md=__doc__,
        params={
            "mixture": mixture_param(SETTINGS, "gold.mixture_<name>"),
            "size": Param("tiny", enum=list(SIZES), description="named model size"),
            "max_steps": Param(200, type="integer", minimum=1),
            "sequence_length": Param(256, type="integer", minimum=8),
            "batch_size": Param(16, type="integer", minimum=1),
            "vocab_size": Param(8192, type="integer", minimum=300),
            "holdout": Param(0.05, type="number", minimum=0, maximum=0.5),
            "seed": Param(1, type="integer"),
        },
    )
)
def pretraining():
    @task
    def training_corpus(params=None) -> dict:
        """Spark: gold.mixture_<name> ⋈ bronze.documents → gold.corpus_<name>."""
        from spark_jobs import training_corpus
        from spark_jobs.session import get_spark

        settings = Settings.from_env()
        spark = get_spark(settings, "thresher-training-corpus")
        summary = training_corpus.build(
            spark, settings, params["mixture"], holdout=float(params["holdout"])
        )
        return {"path": summary["corpus.path"], **summary}

    tokenizer = tokenizer_task(SETTINGS, CORPUS_PATH, TOKENIZER, "{{ params.vocab_size }}")
    pretrain = model_task(
        task_id="pretrain",
        module="models.pretrain.train",
        settings=SETTINGS,
        arguments=[
            "--corpus",
            CORPUS_PATH,
            "--tokenizer",
            TOKENIZER,
            "--output",
            f"pretrain/{{{{ params.mixture }}}}/{{{{ params.size }}}}/{RUN_FOLDER}",
            "--size",
            "{{ params.size }}",
            "--max-steps",
            "{{ params.max_steps }}",
            "--sequence-length",
            "{{ params.sequence_length }}",
            "--batch-size",
            "{{ params.batch_size }}",
            "--seed",
            "{{ params.seed }}",
        ],
        resources=Resources(gpus=1, cpu="8", memory="64Gi", shared_memory="16Gi"),
    )
    training_corpus() >> tokenizer >> pretrain


pretraining()
