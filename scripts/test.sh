#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh Debian machine. Installs what the tests need first:
# the real flow exporters and traffic generator they drive are Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_node 20
apt_ensure python3 make g++ softflowd python3-scapy tshark pmacct exabgp bird2 iproute2 gobgpd frr \
  iptables ipset nftables ufw fail2ban openssh-server openssh-client sudo
npm_build
log "typecheck"
npx tsc -p tsconfig.json --noEmit
log "lint and format check"
npx biome check .
log "tests"
npx vitest run "$@"
