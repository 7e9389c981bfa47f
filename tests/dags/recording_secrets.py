"""A secrets backend that writes down every connection or variable lookup made through it.

DAG parsing tests configure it as Airflow's secrets backend: any lookup at parse time goes
through it and is recorded. Airflow's own lookup path is exercised, nothing is patched.
"""

from __future__ import annotations

from airflow.secrets import BaseSecretsBackend


class RecordingSecretsBackend(BaseSecretsBackend):
    def __init__(self, log_path: str) -> None:
        super().__init__()
        self.log_path = log_path

    def _record(self, kind: str, key: str) -> None:
        with open(self.log_path, "a") as log:
            log.write(f"{kind}:{key}\n")

    def get_conn_value(self, conn_id: str, team_name: str | None = None) -> None:
        self._record("connection", conn_id)
        return None

    def get_variable(self, key: str, team_name: str | None = None) -> None:
        self._record("variable", key)
        return None
