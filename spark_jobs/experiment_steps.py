"""The Spark steps of the declared experiments (``thresher.experiments``).

Each takes a ``StepContext`` and returns a small JSON-able summary (what XCom carries); the
experiment's executors (its DAG, its benchmark) call them by name.
"""

from __future__ import annotations

import json

from thresher.experiments import StepContext, experiment_dir


def features(ctx: StepContext) -> dict:
    """``gold.search_features_<mixture>`` (rewritten only when its sources change) and the
    experiment's folder, named by the features' fingerprint and the experiment's settings."""
    from spark_jobs import search_features
    from spark_jobs.session import get_spark

    settings = ctx.settings
    mixture = ctx.params["mixture"]
    spark = get_spark(settings, f"thresher-{ctx.experiment}-features")
    summary = search_features.build(spark, settings, mixture)
    folder = experiment_dir(ctx.experiment, settings, mixture, summary["fingerprint"])
    return {**summary, "dir": folder}


def final_mixture(ctx: StepContext) -> dict:
    """``gold.mixture_<final_mixture>`` from the chosen parameters (the Spark mixture, under the
    mixture's own quota); logs the search's findings and closes its parent run."""
    from spark_jobs import mixture
    from spark_jobs.session import get_spark
    from thresher import mixture_search
    from thresher.quadmix import QuadMixParams

    name = ctx.params["final_mixture"]
    settings = mixture_search.search_settings(ctx.settings, name)
    chosen = QuadMixParams.from_json(json.dumps(ctx.outputs["choose"]["params"]))
    summary = mixture.run(get_spark(settings, "thresher-final-mixture"), settings, params=chosen)
    mixture_search.close_search_run(
        settings, ctx.outputs["open"]["run_id"], ctx.outputs["report"], summary
    )
    return summary


def language_mix_pool(ctx: StepContext) -> dict:
    """``gold.language_mix_pool_<mixture>`` for the run's second language, and the folder of
    the experiment (named by the pool's fingerprint and the cells' training)."""
    from spark_jobs import language_mix as pool
    from spark_jobs.session import get_spark
    from thresher import language_mix

    settings = ctx.settings
    mixture = ctx.params["mixture"]
    language = ctx.params["language"]
    spark = get_spark(settings, "thresher-language-mix-pool")
    summary = pool.build(spark, settings, mixture, language)
    training = language_mix.CellTraining.from_settings(settings, language)
    folder = language_mix.experiment_dir(mixture, summary["fingerprint"], training)
    return {**summary, "experiment_dir": folder}


def poso_events(ctx: StepContext) -> dict:
    """The dataset's ``silver.poso_events`` / ``_users`` / ``_items`` with the cold-start split,
    and the Parquet export the trainers read; its counts per split and user group."""
    from spark_jobs import movielens
    from spark_jobs.session import get_spark

    settings = ctx.settings
    spark = get_spark(settings, "thresher-poso-events", own_driver=True)  # RDDs, Hadoop files
    summary = movielens.run(
        spark, settings, ctx.partition, ctx.params["input_path"] or None, ctx.params["dataset"]
    )
    keep = ("dataset", "partition", "export_path", "stages", "splits")
    return {key: summary[key] for key in keep}
