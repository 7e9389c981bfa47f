"""Mixture search (QuaDMix, PAPERS.md): sampled parameters → proxy models → regression → choice.

Triggered by hand (no schedule)::

    features ─┬─ train_tokenizer ─┐
              └─ sample_params ───┴─ proxy[0 … K-1] ─ choose ─ final_mixture

- ``features`` (Spark, ``spark_jobs.search_features``): σ per criterion, domain, tokens and
  text of every scored document, once; the proxies apply the numpy sampler to it.
- ``sample_params`` opens the search's parent MLflow run and logs the K parameter sets the
  paper's sampler gives (set k is drawn from ``rng([sample_seed, k])``).
- ``proxy``: one mapped model task per set (``models.mixture_search.proxy``): a GPU pod on
  Kubernetes, a local process otherwise, at most as many at once as ``proxy_pool`` allows.
  K is ``THRESHER_MIXTURE_SEARCH_PROXIES``, fixed when this file is parsed.
- ``choose`` (``models.mixture_search.choose``): LightGBM vs a ridge baseline on every
  finished proxy of the search, the chosen parameters as a new version.
- ``final_mixture`` (Spark, ``spark_jobs.mixture``): ``gold.mixture_<final_mixture>`` from them.

Each proxy, the regression and the choice is an MLflow run under the parent run. Outputs live
under ``mixture_search/<mixture>/<features fingerprint>-<training key>/`` below the
checkpoint root, keyed by what determines a proxy's loss, so re-running the DAG returns the
finished proxies at once and resumes an interrupted one from its last checkpoint.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from thresher import names
from thresher.config import Settings
from thresher_tasks import Resources, model_task

DAG_ID = "mixture_search"
SETTINGS = Settings.from_env()  # environment only: no I/O at parse time
SEARCH = SETTINGS.mixture_search

FEATURES = "{{ ti.xcom_pull(task_ids='features')['path'] }}"
SEARCH_DIR = "{{ ti.xcom_pull(task_ids='features')['search_dir'] }}"
PARENT_RUN = "{{ ti.xcom_pull(task_ids='sample_params')['run_id'] }}"


def proxy_arguments(index: int) -> list[str]:
    return [
        "--features", FEATURES,
        "--search-dir", SEARCH_DIR,
        "--index", str(index),
        "--sample-seed", str(SEARCH.sample_seed),
        "--lambda-scale", SETTINGS.mixture.lambda_scale,
        "--mixture-seed", str(SETTINGS.mixture.seed),
        "--eval-set", SEARCH.eval_set,
        "--size", SEARCH.size,
        "--max-steps", str(SEARCH.max_steps),
        "--sequence-length", str(SEARCH.sequence_length),
        "--batch-size", str(SEARCH.batch_size),
        "--learning-rate", str(SEARCH.learning_rate),
        "--seed", str(SEARCH.seed),
        "--parent-run-id", PARENT_RUN,
        "--experiment", SEARCH.experiment,
    ]  # fmt: skip


@dag(
    dag_id=DAG_ID,
    description="QuaDMix parameter search: proxies on sampled mixtures, LightGBM, the choice.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["thresher", "quadmix", "mixture-search", "gpu", "mlflow"],
    default_args={
        "owner": "thresher",
        "retries": SETTINGS.airflow.task_retries,
        "retry_delay": timedelta(seconds=SETTINGS.airflow.retry_delay_seconds),
    },
    params={
        "mixture": Param(
            SETTINGS.mixture.name,
            type="string",
            pattern=names.TABLE_NAME_PATTERN,
            description="the mixture whose criteria and sources are searched",
        ),
        "final_mixture": Param(
            SEARCH.final_mixture,
            type="string",
            pattern=names.TABLE_NAME_PATTERN,
            description="the chosen parameters build gold.mixture_<final_mixture>",
        ),
        "folds": Param(SEARCH.folds, type="integer", minimum=2),
        "candidates": Param(SEARCH.candidates, type="integer", minimum=1),
        "top_k": Param(SEARCH.top_k, type="integer", minimum=1),
    },  # fmt: skip
    doc_md=__doc__,
)
def mixture_search():
    @task
    def features(params=None) -> dict:
        """Spark: silver scores and domains + bronze text → gold.search_features_<mixture>."""
        from spark_jobs import search_features
        from spark_jobs.session import get_spark
        from thresher import mixture_search

        settings = Settings.from_env()
        spark = get_spark(settings, "thresher-search-features")
        summary = search_features.build(spark, settings, params["mixture"])
        training = mixture_search.ProxyTraining.from_settings(settings)
        folder = mixture_search.search_dir(params["mixture"], summary["fingerprint"], training)
        return {**summary, "search_dir": folder}

    @task
    def sample_params(features: dict) -> dict:
        """The parent MLflow run of this DAG run, with the K sampled parameter sets."""
        from thresher import mixture_search

        dag_run = get_current_context()["dag_run"]
        return mixture_search.open_search_run(
            Settings.from_env(),
            run_key=f"{DAG_ID}/{dag_run.run_id}",
            run_name=f"{DAG_ID} {features['search_dir'].rsplit('/', 1)[-1]}",
            features=features,
            tags={"thresher.via": "airflow", "airflow.dag_id": DAG_ID,
                  "airflow.run_id": dag_run.run_id},
        )  # fmt: skip

    @task
    def final_mixture(choice: dict, search: dict, params=None) -> dict:
        """Spark: gold.mixture_<final_mixture> from the chosen parameters; closes the run."""
        import json

        from spark_jobs import mixture
        from spark_jobs.session import get_spark
        from thresher import mixture_search
        from thresher.quadmix import QuadMixParams

        settings = mixture_search.search_settings(Settings.from_env(), params["final_mixture"])
        chosen = QuadMixParams.from_json(json.dumps(choice["params"]))
        summary = mixture.run(
            get_spark(settings, "thresher-final-mixture"), settings, params=chosen
        )
        mixture_search.close_search_run(settings, search["run_id"], choice, summary)
        return summary

    found = features()
    tokenizer = model_task(
        task_id="train_tokenizer",
        module="models.pretrain.tokenizer",
        settings=SETTINGS,
        arguments=[
            "--corpus",
            FEATURES,
            "--output",
            f"{SEARCH_DIR}/tokenizer",
            "--vocab-size",
            str(SEARCH.vocab_size),
        ],  # fmt: skip
        resources=Resources(cpu="4", memory="8Gi"),
    )
    sampled = sample_params(found)
    proxies = model_task(
        task_id="proxy",
        module="models.mixture_search.proxy",
        settings=SETTINGS,
        expand_arguments=[proxy_arguments(k) for k in range(SEARCH.proxies)],
        resources=Resources(gpus=1, cpu="4", memory="16Gi"),
        pool=SEARCH.proxy_pool,
    )
    choose = model_task(
        task_id="choose",
        module="models.mixture_search.choose",
        settings=SETTINGS,
        arguments=[
            "--search-dir",
            SEARCH_DIR,
            "--folds",
            "{{ params.folds }}",
            "--candidates",
            "{{ params.candidates }}",
            "--top-k",
            "{{ params.top_k }}",
            "--sample-seed",
            str(SEARCH.sample_seed),
            "--lambda-scale",
            SETTINGS.mixture.lambda_scale,
            "--parent-run-id",
            PARENT_RUN,
            "--experiment",
            SEARCH.experiment,
        ],  # fmt: skip
        resources=Resources(cpu="4", memory="8Gi"),
    )
    found >> tokenizer
    [tokenizer, sampled] >> proxies >> choose
    final_mixture(choose.output, sampled)


mixture_search()
