#!/usr/bin/env bash
# Counts to ${COUNT:-5}, one line a step, naming the host it ran on: the demo's command job.
set -euo pipefail
for i in $(seq 1 "${COUNT:-5}"); do
  echo "step $i of ${COUNT:-5} on ${TM_WORKER_ADDRESS:-$(hostname)}"
  sleep "${STEP_SECONDS:-0.2}"
done
echo "done" >&2
