"""An Airflow executor of a declared experiment (``thresher.experiments``): one task per step.

Model steps become the model-task factory's operators (a GPU pod on Kubernetes, a local
process here), mapped over their argument lists where the step is; their arguments refer to
earlier steps' results through XCom templates. Spark and driver steps become TaskFlow tasks
that call the step's entry point in the worker with a ``StepContext``: the settings, every
step result they declare (a mapped step's as the list of its tasks' results), the run's key
and parameters. Dependencies are the declared ones; nothing here knows what a step does.
"""

from __future__ import annotations

from thresher.config import Settings
from thresher.experiments import MODEL, Experiment
from thresher_tasks.model_task import Resources, model_task


def xcom(step: str, key: str) -> str:
    """A model task's argument: ``key`` of step ``step``'s result, rendered at run time."""
    return f"{{{{ ti.xcom_pull(task_ids='{step}')['{key}'] }}}}"


def run_key(experiment: Experiment, run_id: str) -> str:
    """What the experiment's parent MLflow run is found again by (retries find the same)."""
    return f"{experiment.name}/{run_id}"


def experiment_tasks(experiment: Experiment, settings: Settings) -> dict:
    """Inside a ``@dag`` function: the experiment's tasks, wired as declared."""
    from airflow.sdk import task

    @task
    def run_step(name: str, **outputs) -> dict:
        from airflow.sdk import get_current_context

        from thresher.experiments import StepContext, import_entry
        from thresher.partitions import partition_from_context
        from thresher_tasks.dag_arguments import airflow_run_tags
        from thresher_tasks.secret_masking import settings_with_masked_secrets

        context = get_current_context()
        dag_run = context["dag_run"]
        ctx = StepContext(
            settings=settings_with_masked_secrets(),
            experiment=experiment.name,
            run_key=run_key(experiment, dag_run.run_id),
            partition=partition_from_context(context),
            outputs={step: value for step, value in outputs.items()},
            params=experiment.run_params(settings, dict(context["params"])),
            tags=airflow_run_tags(dag_run),
        )
        return import_entry(experiment.step(name).entry)(ctx)

    tasks: dict = {}
    for step in experiment.steps:
        if step.kind != MODEL:
            inputs = {name: getattr(tasks[name], "output", tasks[name]) for name in step.after}
            tasks[step.name] = run_step.override(task_id=step.name)(step.name, **inputs)
            continue
        lists = step.argument_lists(settings, xcom)
        kwargs = {
            "task_id": step.name,
            "module": step.entry,
            "settings": settings,
            "resources": Resources(gpus=step.gpus, cpu=step.cpu, memory=step.memory),
        }
        if step.pool_name(settings):
            kwargs["pool"] = step.pool_name(settings)
        if step.mapped:
            operator = model_task(expand_arguments=lists, **kwargs)
        else:
            (arguments,) = lists
            operator = model_task(arguments=arguments, **kwargs)
        for name in step.after:
            tasks[name] >> operator
        tasks[step.name] = operator
    return tasks


def fail_parent_run(experiment: Experiment):
    """An ``on_failure_callback``: a task failed for good, so the experiment's parent MLflow
    run ends FAILED instead of RUNNING."""

    def callback(context) -> None:
        from thresher import tracking

        key = run_key(experiment, context["dag_run"].run_id)
        settings = experiment.tracking_settings(Settings.from_env())
        tracking.finish_run_by_key(settings, key, "FAILED")

    return callback


def experiment_dag(experiment: Experiment, settings: Settings, doc_md: str):
    """The DAG of ``experiment`` (its declared description, tags and params, manual trigger):
    its tasks as declared, and its parent MLflow run ended FAILED when a task fails for
    good."""
    from airflow.sdk import Param, dag

    from thresher_tasks.dag_arguments import dag_arguments

    params = {
        p.name: Param(
            p.default_value(settings), type="string", pattern=p.pattern, description=p.description
        )
        for p in experiment.params
    }

    @dag(
        **dag_arguments(
            experiment.name,
            settings,
            description=experiment.description,
            tags=list(experiment.tags),
            doc_md=doc_md,
            params=params,
            on_failure_callback=fail_parent_run(experiment),
        )
    )
    def experiment_tasks_dag():
        experiment_tasks(experiment, settings)

    return experiment_tasks_dag()
