"""The pipeline, declared once: each job's name, entry point, settings, tables and order.

A job is data. Its entry point is a dotted ``module:function`` that an executor imports when
it runs the job (this module imports no Spark); every entry takes a ``JobContext`` and returns
a small JSON-able summary. The Airflow DAG (``dags/curation.py``), the ``thresher`` CLI and
the curation benchmark are executors of the same list (``spark_jobs.pipeline``): they decide
where and how a job runs, never what runs or in which order. Adding a stage is one ``Job``
here and its entry point.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from thresher.config import Settings


@dataclass(frozen=True)
class Gate:
    """A Great Expectations suite the job's output must pass before anything downstream runs.

    The job's own task validates what it wrote, in its Spark session, before it reports
    success (``spark_jobs.pipeline.run_gated``): a failed gate fails the job's task for good.
    """

    suite: str  # a suite of spark_jobs.quality_gate (bronze_documents, silver_dedup, ...)
    name: str  # the gate's step in progress lines and the curation benchmark (bronze_gate, ...)


@dataclass(frozen=True)
class Job:
    name: str
    entry: str  # "module:function", called with a JobContext
    description: str
    settings: tuple[str, ...] = ()  # the Settings sections it reads
    reads: tuple[str, ...] = ()  # qualified table names ("<name>" stands for a mixture name)
    writes: tuple[str, ...] = ()
    after: tuple[str, ...] = ()  # jobs it waits for (each gated where it has a gate)
    gate: Gate | None = None
    # Owns the run's partition (ingest_date); otherwise it trains a model or spans the lake.
    partitioned: bool = True
    # Trains a model version once and finds it saved afterwards: a single-job command runs
    # the ones its job waits for first (``thresher quality`` trains the classifier if absent).
    trains: bool = False
    params: tuple[str, ...] = ()  # run parameters it takes (the DAG's params, the CLI's flags)


@dataclass(frozen=True)
class JobContext:
    """What an entry point is given: the settings, the run's partition, the MLflow run to log
    into, and the run's parameters (``input_path``, ``source``, ...)."""

    settings: Settings
    partition: dt.date | None
    mlflow_run_id: str
    params: Mapping[str, str | None] = field(default_factory=dict)

    def with_params(self, **params: str | None) -> JobContext:
        return dataclasses.replace(self, params={**self.params, **params})


@dataclass(frozen=True)
class Pipeline:
    name: str
    jobs: tuple[Job, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for job in self.jobs:
            if job.name in seen:
                raise ValueError(f"{self.name}: job {job.name!r} declared twice")
            unknown = [a for a in job.after if a not in seen]
            if unknown:
                raise ValueError(f"{self.name}: {job.name} waits for {unknown}, undeclared so far")
            if ":" not in job.entry:
                raise ValueError(f"{self.name}: {job.name}.entry must be 'module:function'")
            seen.add(job.name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(job.name for job in self.jobs)

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(f"{self.name} has no job {name!r}; its jobs: {', '.join(self.names)}")

    def models_before(self, name: str) -> list[Job]:
        """The model-training jobs ``name`` waits for (directly), in pipeline order."""
        after = set(self.job(name).after)
        return [job for job in self.jobs if job.name in after and job.trains]

    @property
    def gates(self) -> tuple[str, ...]:
        """The suites of the pipeline's gates, in order."""
        return tuple(job.gate.suite for job in self.jobs if job.gate)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for job in self.jobs for p in job.params))


CURATION = Pipeline(
    "curation",
    (
        Job(
            "ingest",
            "spark_jobs.stages:ingest",
            "raw files under the input path → bronze.documents and quarantine",
            settings=("ingest", "languages"),
            writes=("bronze.documents", "quarantine", "ops.stage_counts"),
            gate=Gate("bronze_documents", "bronze_gate"),
            params=("input_path", "source"),
        ),
        Job(
            "dedup",
            "spark_jobs.stages:dedup",
            "exact and MinHash near-duplicates of the partition, against earlier partitions",
            settings=("dedup",),
            reads=("bronze.documents", "silver.minhash", "silver.dedup"),
            writes=("silver.minhash", "silver.dedup", "ops.stage_counts"),
            after=("ingest",),
            gate=Gate("silver_dedup", "dedup_gate"),
        ),
        Job(
            "reference_classifier",
            "spark_jobs.stages:reference_classifier",
            "the DCLM-style quality classifier's configured version, trained once",
            settings=("quality",),
            reads=("bronze.documents",),
            after=("ingest",),
            partitioned=False,
            trains=True,
        ),
        Job(
            "quality",
            "spark_jobs.stages:quality",
            "quality rules and the reference classifier's score per kept document",
            settings=("quality",),
            reads=("bronze.documents", "silver.dedup"),
            writes=("silver.quality_scores",),
            after=("dedup", "reference_classifier"),
            gate=Gate("silver_quality_scores", "quality_gate"),
        ),
        Job(
            "domain_model",
            "spark_jobs.stages:domain_model",
            "the E5 domain classifier's configured version (the student's teacher), trained once",
            settings=("domain",),
            reads=("silver.domain_labels",),
            writes=("silver.domain_labels",),
            partitioned=False,
            trains=True,
        ),
        Job(
            "domain_student",
            "spark_jobs.stages:domain_student",
            "the fast domain classifier, distilled from the E5 one on the first partition",
            settings=("domain",),
            reads=("bronze.documents", "silver.dedup", "silver.domain_labels"),
            after=("dedup", "domain_model"),
            partitioned=False,
            trains=True,
        ),
        Job(
            "domains",
            "spark_jobs.stages:domains",
            "a domain per kept document: the student's, the E5 teacher's where it is unsure",
            settings=("domain",),
            reads=("bronze.documents", "silver.dedup"),
            writes=("silver.domains",),
            after=("dedup", "domain_model", "domain_student"),
            gate=Gate("silver_domains", "domains_gate"),
        ),
        Job(
            "mixture",
            "spark_jobs.stages:mixture",
            "the QuaDMix mixture over every scored date",
            settings=("mixture",),
            reads=("bronze.documents", "silver.quality_scores", "silver.domains"),
            writes=("gold.mixture_<name>",),
            after=("quality", "domains"),
            partitioned=False,
            gate=Gate("gold_mixture", "mixture_gate"),
        ),
        Job(
            "stage_statistics",
            "spark_jobs.stages:stage_statistics",
            "the partition's accounting checked against its tables; closes the MLflow run",
            reads=("ops.stage_counts", "bronze.documents", "quarantine"),
            after=("mixture",),
        ),
    ),
)
