#!/usr/bin/env bash
# Makes this checkout runnable: Debian packages the build needs, node modules, dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_node 20
# better-sqlite3 compiles SQLite from source when no prebuilt binary can be fetched.
apt_ensure python3 make g++
npm_build
