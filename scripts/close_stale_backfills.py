"""Close the backfills of a DAG that ``scripts/run_dag.sh`` left open.

Airflow allows one running backfill per DAG; a demo stopped with Ctrl-C (or killed) leaves its
backfill open, and every later ``airflow backfill create`` for the DAG then fails with
``AlreadyRunningBackfill``. ``run_dag.sh`` owns the DAG's runs while it holds port 8080 (it
checks before starting), so an open backfill it finds was left by a process that is gone. It
is closed as the REST API's ``POST /backfills/{id}/cancel`` closes one (paused, completed),
and its runs that never finished are marked failed, task instances included, so the UI does
not show them running forever. ``run_dag.sh`` also closes its own backfill when its run has
ended: the scheduler, stopped then, would mark it complete only on a later loop.

    python scripts/close_stale_backfills.py DAG_ID
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime


def close_stale_backfills(dag_id: str) -> list[int]:
    """The ids of the backfills of ``dag_id`` closed (none open: an empty list)."""
    from airflow.models.backfill import Backfill, BackfillDagRun
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, State, TaskInstanceState
    from sqlalchemy import select, update

    unfinished_runs = (DagRunState.QUEUED, DagRunState.RUNNING)
    # Airflow's own set of task states that have not ended (None: not yet scheduled).
    unfinished_tasks = [state for state in State.unfinished if state is not None]
    closed = []
    now = datetime.now(UTC)
    with create_session() as session:
        open_backfills = session.scalars(
            select(Backfill).where(Backfill.dag_id == dag_id, Backfill.completed_at.is_(None))
        ).all()
        for backfill in open_backfills:
            member = BackfillDagRun.backfill_id == backfill.id
            runs = select(BackfillDagRun.dag_run_id).where(member)
            run_ids = select(DagRun.run_id).where(
                DagRun.id.in_(runs), DagRun.state.in_(unfinished_runs)
            )
            session.execute(
                update(TaskInstance)
                .where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.run_id.in_(run_ids),
                    TaskInstance.state.in_(unfinished_tasks),
                )
                .values(state=TaskInstanceState.FAILED, end_date=now)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(DagRun)
                .where(DagRun.id.in_(runs), DagRun.state.in_(unfinished_runs))
                .values(state=DagRunState.FAILED, end_date=now)
                .execution_options(synchronize_session=False)
            )
            backfill.is_paused = True
            backfill.completed_at = now
            closed.append(backfill.id)
    return closed


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: close_stale_backfills.py DAG_ID")
    for backfill_id in close_stale_backfills(sys.argv[1]):
        print(f"closed backfill {backfill_id} of {sys.argv[1]}, left open by an interrupted run")
