#!/usr/bin/env bash
# Installs the Debian packages Muster needs to build and test, only those missing.
# Idempotent and quick when everything is present. Runs apt-get as root (or via sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev
  libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev
  libspdlog-dev libfmt-dev libcli11-dev libssl-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libjemalloc-dev
)

missing=()
# Node.js runs the real SDK test clients. A Node that is already on PATH (with its npm) is used
# as it is; otherwise Debian's packages provide both.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
