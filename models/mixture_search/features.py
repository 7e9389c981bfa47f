"""The sampler inputs a proxy or an arm reads: ``gold.search_features_<name>``.

Read with ``deltalake`` (no JVM in a GPU pod). The table's last commit carries the recipe
``spark_jobs.search_features`` wrote: the fingerprint and the order of the criteria.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher import mixture_search
from thresher.entrypoint import BadInput
from thresher.mixture_quota import Quota
from thresher.quadmix import QuadMixParams


@dataclass
class FeaturePool:
    path: str
    fingerprint: str
    criteria: tuple[str, ...]
    nodes: list[str]
    domains: np.ndarray  # object array of domain names
    languages: list[str]
    tokens: np.ndarray
    sigmas: np.ndarray  # documents × criteria, in ``criteria`` order
    texts: list[str]

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def domain_names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.domains.tolist())))

    def mixture_copies(self, params: QuadMixParams, seed: int, quota: Quota) -> dict:
        """The copies ``params`` draw of each document (``mixture_search.mixture_copies``)."""
        return mixture_search.mixture_copies(
            params, self.sigmas, self.languages, self.domains, self.tokens, self.nodes, seed, quota
        )


def read_features(path: str, storage_options: dict | None = None) -> FeaturePool:
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    if "://" not in path and not (Path(path) / "_delta_log").is_dir():
        raise BadInput(f"no search features table at {path} (run spark_jobs.search_features)")
    table = DeltaTable(path, storage_options=storage_options)
    recipe = next(
        (json.loads(c["userMetadata"]) for c in table.history() if c.get("userMetadata")), None
    )
    if recipe is None or "fingerprint" not in recipe:
        raise BadInput(f"{path} has no recorded recipe: it was not written by search_features")
    criteria = tuple(recipe["summary"]["criteria"])
    data = table.to_pyarrow_table()
    if data.num_rows == 0:
        raise BadInput(f"{path} holds no documents")
    sigmas = data.column("sigmas")
    columns = [
        pc.map_lookup(sigmas, name, "first").to_numpy(zero_copy_only=False) for name in criteria
    ]
    return FeaturePool(
        path=path,
        fingerprint=recipe["fingerprint"],
        criteria=criteria,
        nodes=data.column("node").to_pylist(),
        domains=np.asarray(data.column("domain").to_pylist(), dtype=object),
        languages=data.column("language").to_pylist(),
        tokens=data.column("tokens").to_numpy().astype(np.int64),
        sigmas=np.stack(columns, axis=1).astype(np.float64),
        texts=data.column("text").to_pylist(),
    )
