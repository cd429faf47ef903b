#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: set up, build, and run the quickstart scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
./build/gpufleet simulate scenarios/quickstart.yaml "$@"
