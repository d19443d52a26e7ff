#!/usr/bin/env bash
# `make standalone`: the AEP emulator plus `airflow standalone` with this provider and the example DAGs,
# for exploring in the Airflow UI (http://localhost:8080 after about 15 s; login skipped: everyone is admin).
# Ctrl-C stops both. Settings: AEP_EMULATOR_PORT (8765), AIRFLOW_PORT (8080), STANDALONE_HOME (.demo/standalone).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
export PATH="$REPO/.venv/bin:$PATH"

EMULATOR_PORT="${AEP_EMULATOR_PORT:-8765}"
AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW_HOME="${STANDALONE_HOME:-$REPO/.demo/standalone}"
mkdir -p "$AIRFLOW_HOME"

# The emulator keeps its state in a file, so resources survive a restart of this script.
aep-emulator serve --port "$EMULATOR_PORT" --state "$AIRFLOW_HOME/aep-emulator-state.json" \
  > "$AIRFLOW_HOME/aep-emulator.log" 2>&1 &
EMULATOR_PID=$!
AIRFLOW_PID=""
# `airflow standalone` leaves its scheduler, triggerer and API server running when only it is
# signalled: it runs in its own process group, and the whole group is stopped on the way out.
stop_all() {
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
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-True}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS:-True}"
export AIRFLOW__API__PORT="$AIRFLOW_PORT"
export AIRFLOW__API__BASE_URL="http://localhost:$AIRFLOW_PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://localhost:$AIRFLOW_PORT/execution/"

echo "AEP emulator: http://127.0.0.1:$EMULATOR_PORT (admin API under /__emulator__/)"
echo "Airflow UI:   http://localhost:$AIRFLOW_PORT (AIRFLOW_HOME=$AIRFLOW_HOME)"
setsid airflow standalone &
AIRFLOW_PID=$!
wait "$AIRFLOW_PID"
