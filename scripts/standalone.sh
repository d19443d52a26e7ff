#!/usr/bin/env bash
# `make standalone`: the AEP emulator plus `airflow standalone` with this provider and the example DAGs,
# for exploring in the Airflow UI (http://localhost:8080 after about 15 s; login skipped: everyone is admin).
# Ctrl-C stops both. Settings: AEP_EMULATOR_PORT (8765), AIRFLOW_PORT (AIRFLOW__API__PORT, else 8080),
# STANDALONE_HOME (.demo/standalone), STANDALONE_UNPAUSE=1 (unpause every example DAG once the API
# server answers; so does AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False).
#
# The scheduler starts a DAG's runs as soon as it sees the DAG unpaused, and their tasks report to the
# API server (the execution API), which answers 15-40 s after the scheduler is up. So no example DAG
# is unpaused before the API server answers: those unpaused in an earlier session are paused while
# Airflow starts and unpaused again then, and new ones are created paused.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
export PATH="$REPO/.venv/bin:$PATH"

EMULATOR_PORT="${AEP_EMULATOR_PORT:-8765}"
AIRFLOW_PORT="${AIRFLOW_PORT:-${AIRFLOW__API__PORT:-8080}}"
export AIRFLOW_HOME="${STANDALONE_HOME:-$REPO/.demo/standalone}"
mkdir -p "$AIRFLOW_HOME"

# The emulator keeps its state in a file, so resources survive a restart of this script.
aep-emulator serve --port "$EMULATOR_PORT" --state "$AIRFLOW_HOME/aep-emulator-state.json" \
  > "$AIRFLOW_HOME/aep-emulator.log" 2>&1 &
EMULATOR_PID=$!
AIRFLOW_PID=""
UNPAUSE_PID=""
# `airflow standalone` leaves its scheduler, triggerer and API server running when only it is
# signalled: it runs in its own process group, and the whole group is stopped on the way out.
stop_all() {
  if [ -n "$UNPAUSE_PID" ]; then kill "$UNPAUSE_PID" 2>/dev/null || true; fi
  if [ -n "$AIRFLOW_PID" ]; then kill -TERM -- "-$AIRFLOW_PID" 2>/dev/null || true; fi
  kill "$EMULATOR_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 50); do
  if curl -fsS "http://127.0.0.1:$EMULATOR_PORT/__emulator__/health" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$EMULATOR_PORT/__emulator__/health" >/dev/null \
  || { echo "the AEP emulator did not start: see $AIRFLOW_HOME/aep-emulator.log" >&2; exit 1; }

# AIRFLOW_CONN_AEP_DEFAULT, AIRFLOW_CONN_PAYPAL_DEFAULT, AIRFLOW_CONN_SFMC_DEFAULT
eval "$(aep-emulator env --url "http://127.0.0.1:$EMULATOR_PORT")"

export AIRFLOW__CORE__DAGS_FOLDER="$REPO/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS:-True}"
export AIRFLOW__API__PORT="$AIRFLOW_PORT"
export AIRFLOW__API__BASE_URL="http://localhost:$AIRFLOW_PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://localhost:$AIRFLOW_PORT/execution/"

# The JSON list an `airflow ... --output json` printed last (warnings may come before it), as
# `items`, reduced by the Python expression $1.
from_json_list() {
  python -c "import json, sys
lines = [line for line in sys.stdin.read().splitlines() if line.startswith('[')]
items = json.loads(lines[-1]) if lines else []
print($1)"
}

# The example DAGs held paused until the API server answers: a regex of their ids, and how many.
HELD_REGEX=""
HELD_COUNT=0
case "${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-True}" in
  [Ff]alse | 0) STANDALONE_UNPAUSE=1 ;;
esac
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True
if [ "${STANDALONE_UNPAUSE:-0}" = 1 ]; then
  EXAMPLE_DAG_FILES=(example_dags/aep_*.py)
  HELD_REGEX='^aep_'
  HELD_COUNT=${#EXAMPLE_DAG_FILES[@]}
fi
if [ -f "$AIRFLOW_HOME/airflow.db" ]; then
  UNPAUSED=$(airflow dags list --output json --columns dag_id,is_paused 2>/dev/null \
    | from_json_list '"|".join(d["dag_id"] for d in items if d["dag_id"].startswith("aep_") and str(d["is_paused"]) == "False")')
  if [ -n "$UNPAUSED" ]; then
    echo "Pausing $UNPAUSED until the API server answers."
    airflow dags pause --treat-dag-id-as-regex --yes "^($UNPAUSED)\$" >/dev/null 2>&1
    if [ "$HELD_COUNT" = 0 ]; then
      HELD_REGEX="^($UNPAUSED)\$"
      HELD_COUNT=$(tr '|' '\n' <<<"$UNPAUSED" | wc -l)
    fi
  fi
fi

# Unpause the held DAGs once the API server answers (and the dag processor has stored them).
unpause_when_ready() {
  local unpaused=0 output deadline=$((SECONDS + 300))
  until curl -fsS "http://127.0.0.1:$AIRFLOW_PORT/api/v2/monitor/health" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "The API server did not answer within 5 minutes: the example DAGs stay paused." >&2
      return 1
    fi
    sleep 2
  done
  while [ "$unpaused" -lt "$HELD_COUNT" ] && [ "$SECONDS" -lt "$deadline" ]; do
    output=$(airflow dags unpause --treat-dag-id-as-regex --yes --output json "$HELD_REGEX" 2>/dev/null || true)
    unpaused=$((unpaused + $(from_json_list 'len(items)' <<<"$output")))
    if [ "$unpaused" -lt "$HELD_COUNT" ]; then sleep 5; fi
  done
  echo "The API server answers: unpaused $unpaused example DAG(s)."
}

echo "AEP emulator: http://127.0.0.1:$EMULATOR_PORT (admin API under /__emulator__/)"
echo "Airflow UI:   http://localhost:$AIRFLOW_PORT (AIRFLOW_HOME=$AIRFLOW_HOME)"
setsid airflow standalone &
AIRFLOW_PID=$!
if [ "$HELD_COUNT" -gt 0 ]; then
  unpause_when_ready &
  UNPAUSE_PID=$!
fi
wait "$AIRFLOW_PID"
