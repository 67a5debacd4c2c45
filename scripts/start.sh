#!/usr/bin/env bash
# `npm start`: install what is missing, build, then run the daemon in the foreground.
# Extra arguments go to `floodgate run` (e.g. `npm start -- --config /etc/floodgate/floodgate.yaml`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/appliance/cli/main.js run "$@"
