# Shared helpers for Floodgate's setup scripts (sourced, not run).

log() { printf '[floodgate setup] %s\n' "$*" >&2; }

# Refuses to go on unless Node.js >= $1 is on PATH: Floodgate targets Node 20 and later.
require_node() {
  local want=$1
  if ! command -v node >/dev/null 2>&1; then
    log "Node.js >= $want is required and 'node' is not on PATH (install it from your distribution or nodejs.org)."
    exit 1
  fi
  local have
  have=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$have" -lt "$want" ]; then
    log "Node.js >= $want is required; found $(node --version)."
    exit 1
  fi
}

# Installs the Debian packages given that are not installed yet (as root, or through sudo).
apt_ensure() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      log "need Debian packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
  log "installing Debian packages: ${missing[*]}"
  # tshark asks whether non-root users may capture; answer before apt can ask.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections 2>/dev/null || true
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Installs node modules when missing or older than the lock file, then builds dist/.
npm_build() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing node modules (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  log "building (tsc)"
  npm run --silent build
}
