#!/usr/bin/env bash
# Installs what gpufleet needs from Debian 12 (only the missing packages; as root or with sudo), then
# configures and builds it in ./build. Idempotent: with everything present it only runs an incremental build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config git
          libsimgrid-dev libboost-graph-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libabsl-dev
          googletest libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libfmt-dev coinor-libcbc-dev
          slurmctld slurmd slurm-client munge)
# The Slurm packages are for `gpufleet sweep --backend slurm`'s test cluster (tools/slurm/test-cluster.sh):
# without /etc/slurm/slurm.conf their services do not start, and munge's system daemon, if started, is
# unused (the test cluster runs its own munged with a private key and socket).
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j "$(nproc)"
