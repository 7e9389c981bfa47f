"""One typed configuration object for every runtime (scheduler, Spark driver, GPU pod).

Every field has an embedded default that runs on one machine; every field can be
overridden by an environment variable named ``THRESHER_<SECTION>_<FIELD>`` (top-level
fields drop the section), e.g. ``THRESHER_SPARK_MASTER=spark://host:7077`` or
``THRESHER_LANGUAGES=en,de,fr``. A model task receives its resolved settings as one JSON
document (``THRESHER_SETTINGS``), so a pod and a local process see exactly the same values.
The sections live in ``thresher.settings`` by concern; this module composes and loads them,
and imports only the standard library so DAG files can read it at parse time.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from thresher.settings.curation import (
    DOMAIN_METHODS,
    DedupSettings,
    DomainSettings,
    IngestSettings,
    MixtureSettings,
    QualitySettings,
)
from thresher.settings.errors import ConfigError, require_one_of
from thresher.settings.experiments import (
    MURATING_BACKENDS,
    MURATING_SELECTION_METHODS,
    POSO_MODELS,
    SELECTION_ARMS,
    HeldOutSettings,
    LanguageMixSettings,
    MixtureSearchSettings,
    MuRatingSettings,
    PosoSettings,
    ProxySettings,
    SelectionStudySettings,
)
from thresher.settings.loading import as_data, load
from thresher.settings.platform import (
    EXECUTORS,
    ON_FINISH_ACTIONS,
    AirflowSettings,
    KubernetesSettings,
    SparkSettings,
    TrackingSettings,
)
from thresher.settings.secrets import redact, secret_values, without_secrets

__all__ = [
    "DOMAIN_METHODS",
    "EXECUTORS",
    "MURATING_BACKENDS",
    "MURATING_SELECTION_METHODS",
    "ON_FINISH_ACTIONS",
    "POSO_MODELS",
    "AirflowSettings",
    "ConfigError",
    "DedupSettings",
    "DomainSettings",
    "HeldOutSettings",
    "IngestSettings",
    "KubernetesSettings",
    "LanguageMixSettings",
    "MixtureSearchSettings",
    "MixtureSettings",
    "MuRatingSettings",
    "PosoSettings",
    "ProxySettings",
    "QualitySettings",
    "SELECTION_ARMS",
    "SelectionStudySettings",
    "Settings",
    "SparkSettings",
    "TrackingSettings",
    "redact",
    "secret_values",
]

# MuRating's 18 languages (PAPERS.md), as ISO 639-1 codes emitted by fastText lid.176.
DEFAULT_LANGUAGES = tuple("en zh es fr de ru ja pt it ar ko nl pl vi tr id th hi".split())  # noqa: SIM905 (one line, not 18)
# Where the path settings point when left empty: these folders of ``home``.
HOME_FOLDERS = {"storage_root": "lake", "input_path": "input", "checkpoint_root": "checkpoints"}
# The resolved settings of a model task, as one JSON document (Settings.to_json).
SETTINGS_ENV = "THRESHER_SETTINGS"


@dataclass(frozen=True)
class Settings:
    home: Path = Path.home() / ".thresher"
    # Root of the Delta lake: a local path or an object-store URI (s3a://bucket/lake).
    storage_root: str = ""
    input_path: str = ""
    # Model checkpoints and outputs of model tasks; empty = <home>/checkpoints (in a pod: the
    # mounted checkpoint claim).
    checkpoint_root: str = ""
    # Where model tasks run: "local" (a subprocess of the Airflow worker) or "kubernetes" (a pod).
    executor: str = "local"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    spark: SparkSettings = field(default_factory=SparkSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    airflow: AirflowSettings = field(default_factory=AirflowSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    mixture: MixtureSettings = field(default_factory=MixtureSettings)
    domain: DomainSettings = field(default_factory=DomainSettings)
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)
    poso: PosoSettings = field(default_factory=PosoSettings)
    murating: MuRatingSettings = field(default_factory=MuRatingSettings)
    mixture_search: MixtureSearchSettings = field(default_factory=MixtureSearchSettings)
    language_mix: LanguageMixSettings = field(default_factory=LanguageMixSettings)
    # Mixture experiments: the proxy they train, the held-out text they are scored on, and
    # the selection study (thresher.experiments).
    proxy: ProxySettings = field(default_factory=ProxySettings)
    heldout: HeldOutSettings = field(default_factory=HeldOutSettings)
    selection: SelectionStudySettings = field(default_factory=SelectionStudySettings)

    def __post_init__(self) -> None:
        # Derived defaults live under home, so pointing THRESHER_HOME elsewhere moves all of them.
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        for name, folder in HOME_FOLDERS.items():
            if not getattr(self, name):
                object.__setattr__(self, name, str(home / folder))
        if not self.tracking.tracking_uri or not self.tracking.artifact_root:
            tracking = dataclasses.replace(
                self.tracking,
                tracking_uri=self.tracking.tracking_uri or f"sqlite:///{home / 'mlflow.db'}",
                artifact_root=self.tracking.artifact_root or str(home / "mlartifacts"),
            )
            object.__setattr__(self, "tracking", tracking)
        require_one_of("executor", self.executor, EXECUTORS)
        if not self.languages:
            raise ConfigError("languages must name at least one language code")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of this process: ``THRESHER_SETTINGS`` (a model task's JSON document)
        when set, with any ``THRESHER_<SECTION>_<FIELD>`` variable over it (a pod's
        credentials arrive that way, from Kubernetes Secrets)."""
        env = os.environ if environ is None else environ
        base = None
        if env.get(SETTINGS_ENV):
            try:
                base = json.loads(env[SETTINGS_ENV])
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{SETTINGS_ENV} is not JSON: {exc}") from None
        return load(cls, env, prefix="THRESHER_", base=base)

    def to_json(self) -> str:
        """The settings as one JSON document, secrets left out (they travel as Secrets)."""
        return json.dumps(without_secrets(as_data(self)), sort_keys=True, separators=(",", ":"))

    def as_params(self) -> dict[str, str]:
        """Flat ``section.field -> str`` view, for MLflow params, logs and ``thresher config``,
        with secrets redacted (``redact``): this view leaves the process."""
        out: dict[str, str] = {}

        def walk(obj: object, prefix: str) -> None:
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if dataclasses.is_dataclass(value):
                    walk(value, f"{prefix}{f.name}.")
                elif isinstance(value, tuple):
                    out[prefix + f.name] = redact(f.name, ",".join(map(str, value)))
                elif isinstance(value, Mapping):
                    pairs = (f"{k}={redact(k, str(v))}" for k, v in sorted(value.items()))
                    out[prefix + f.name] = ";".join(pairs)
                else:
                    out[prefix + f.name] = redact(f.name, str(value))

        walk(self, "")
        return out


def poso_events_export(settings: Settings, dataset: str | None = None) -> str:
    """Where the POSO events job writes the Parquet copy that training reads."""
    root = settings.poso.export_root or f"{settings.storage_root.rstrip('/')}/exports/poso_events"
    return f"{root.rstrip('/')}/{dataset or settings.poso.dataset}"
