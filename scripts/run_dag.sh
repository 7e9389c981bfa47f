#!/usr/bin/env bash
# Run one DAG run through Airflow's scheduler and LocalExecutor, as a deployment runs it, so
# the metadata database records its real start, end and duration (`airflow dags test` dates
# the run from its logical date: midnight, for a partition's run).
#
#   scripts/run_dag.sh DAG_ID PARTITION CONF_JSON [-- COMMAND...]
#
# The run is a one-day backfill of PARTITION (logical date PARTITION 00:00, the partition the
# DAG's tasks own); a run that already exists for it is cleared and run again with CONF_JSON.
# `airflow dags trigger` would not do: its data interval is the trigger's wall-clock time,
# whatever logical date it is given. Only this run is scheduled (use_job_schedule off: no
# catch-up run appears). The scheduler, and the API server its task processes report to
# (127.0.0.1:8080), run until the DAG run ends; their logs, the run's id and its wall-clock
# bounds go to $AIRFLOW_HOME/run-<dag>/. Exit status 0 only when the run succeeded.
#
# With THRESHER_SPARK_REMOTE (sc://host:port) set, the tasks' Spark jobs are clients of one
# Spark Connect server: `thresher connect-server`, started here unless one already answers at
# that address, and stopped with the rest. COMMAND (after --) runs when the run has succeeded,
# while that server still serves (make demo's report).
set -euo pipefail
dag=${1:?usage: run_dag.sh DAG_ID PARTITION CONF_JSON [-- COMMAND...]}
partition=${2:?partition date YYYY-MM-DD}
conf=${3:-"{}"}
shift $(($# < 3 ? $# : 3))
after=()
if [ "${1:-}" = "--" ]; then shift; after=("$@"); fi
[[ $partition =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || { echo "partition must be YYYY-MM-DD, got '$partition'" >&2; exit 2; }
: "${AIRFLOW_HOME:?set AIRFLOW_HOME (make demo does)}"

export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False
# Two task processes at a time: each Spark task starts its own driver JVM on 2 cores.
export AIRFLOW__CORE__PARALLELISM=${AIRFLOW__CORE__PARALLELISM:-2}
# SQLite serialises the API server's writes behind the scheduler's: on a busy 2-core machine a
# task's first call has taken 16 s, past the default 5 s.
export AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT=${AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT:-60}
logs="$AIRFLOW_HOME/run-$dag"
mkdir -p "$logs"
pids=()
# Stop what this script started, by process id: politely, then after 30 s for good.
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 30); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return
    sleep 1
  done
  for pid in "${pids[@]}"; do pkill -9 -P "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null || true; done
}
trap stop EXIT

if curl -s -o /dev/null "http://127.0.0.1:8080/api/v2/version"; then
  echo "port 8080 is taken (make airflow-ui?): stop it first; task processes report there" >&2
  exit 1
fi
# Wait up to $2 seconds for host:port $1 to accept connections; fail early if process $3 died.
wait_for_port() {
  local host=${1%:*} port=${1##*:}
  for _ in $(seq "$2"); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    [ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}
# The Spark Connect server starts (JVM, Delta) while Airflow's processes do.
connect_pid=""
if [ -n "${THRESHER_SPARK_REMOTE:-}" ]; then
  address=${THRESHER_SPARK_REMOTE#sc://}
  if ! wait_for_port "$address" 1; then
    thresher connect-server > "$logs/connect-server.log" 2>&1 & pids+=($!)
    connect_pid=$!
  fi
fi
airflow dags reserialize > "$logs/reserialize.log" 2>&1 || { tail -20 "$logs/reserialize.log"; exit 1; }
# Port 8080 was free, so no other run of this script is alive: a backfill still open was left
# by an interrupted one, and Airflow would refuse a new backfill beside it.
python "$(dirname "$0")/close_stale_backfills.py" "$dag"
airflow dags unpause "$dag" > /dev/null
airflow api-server --host 127.0.0.1 --port 8080 > "$logs/api-server.log" 2>&1 & pids+=($!)
api_pid=$!
# Task processes report to the API server from their first line: it must answer before the
# scheduler hands out a task (a run left queued by an interrupted demo starts at once).
for _ in $(seq 90); do
  curl -s -o /dev/null "http://127.0.0.1:8080/api/v2/version" && break
  kill -0 "$api_pid" 2>/dev/null || { tail -20 "$logs/api-server.log"; exit 1; }
  sleep 2
done
if [ -n "$connect_pid" ]; then
  wait_for_port "$address" 180 "$connect_pid" || { tail -20 "$logs/connect-server.log"; exit 1; }
  echo "Spark Connect server on $THRESHER_SPARK_REMOTE (log: $logs/connect-server.log)"
fi

# The run's state: read from a SQLite metadata database directly (an `airflow` command costs
# seconds of CPU on every poll), else asked of the CLI.
run_state() {
  case "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" in
    sqlite:///*) python - "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN#sqlite:///}" "$dag" "$run_id" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
row = db.execute("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", sys.argv[2:]).fetchone()
print(row[0] if row else "")
PY
    ;;
    *) airflow dags state "$dag" "$run_id" 2>/dev/null | tail -1 | cut -d, -f1 ;;
  esac
}

triggered=$(date -u +%s)
# SQLite lets one writer in at a time: a backfill that found the database locked is tried again.
for attempt in 1 2 3; do
  airflow backfill create --dag-id "$dag" --from-date "$partition" --to-date "$partition" \
    --dag-run-conf "$conf" --reprocess-behavior completed > "$logs/backfill.log" 2>&1 && break
  if [ "$attempt" = 3 ] || ! grep -q "database is locked" "$logs/backfill.log"; then
    tail -20 "$logs/backfill.log"; exit 1
  fi
  echo "backfill: the metadata database was locked; trying again" >&2
  python "$(dirname "$0")/close_stale_backfills.py" "$dag" > /dev/null
  sleep 5
done
# The scheduler starts after the backfill is written: its own first writes, on 2 busy cores,
# held SQLite past the backfill's lock timeout.
airflow scheduler > "$logs/scheduler.log" 2>&1 & pids+=($!)
# The JSON is the last line that opens a list: warnings may precede it on stdout.
run_id=$(airflow dags list-runs "$dag" -o json 2>/dev/null | grep '^\[' | tail -1 | python -c '
import json, sys
runs = [r for r in json.load(sys.stdin)
        if (r["logical_date"] or "").replace(" ", "T")[:19] == sys.argv[1] + "T00:00:00"]
print(runs[0]["run_id"] if runs else "")' "$partition")
[ -n "$run_id" ] || { echo "no run of $dag for $partition after the backfill" >&2; exit 1; }
echo "$run_id" > "$logs/last-run-id"
echo "DAG run $run_id queued; scheduler and API server logs in $logs"

state=""
rm -f "$logs/progress-offsets.json"
while :; do
  sleep 5
  # Each job's start and end, and Spark's progress, as the tasks log them.
  python "$(dirname "$0")/follow_progress.py" "$AIRFLOW_HOME/logs/dag_id=$dag/run_id=$run_id" \
    "$logs/progress-offsets.json" "$triggered" || true
  state=$(run_state)
  case "$state" in success|failed) break ;; esac
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a process started here died: see $logs" >&2; exit 1; }
  done
done
python "$(dirname "$0")/follow_progress.py" "$AIRFLOW_HOME/logs/dag_id=$dag/run_id=$run_id" \
  "$logs/progress-offsets.json" "$triggered" || true
finished=$(date -u +%s)
# Wall-clock bounds of the run as seen from outside Airflow (5 s polls): what the UI check
# compares the duration Airflow shows with.
printf '{"run_id": "%s", "state": "%s", "triggered_at": %s, "finished_at": %s}\n' \
  "$run_id" "$state" "$triggered" "$finished" > "$logs/last-run.json"
echo "DAG run $run_id: $state after $((finished - triggered)) s"
# The scheduler marks a backfill complete on a later loop than the one that ends its last run;
# it is stopped now, so this run's backfill is closed here (the UI would show it in progress).
python "$(dirname "$0")/close_stale_backfills.py" "$dag" > /dev/null
[ "$state" = success ]
if [ ${#after[@]} -gt 0 ]; then "${after[@]}"; fi
