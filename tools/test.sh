#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: set up, build, and run the whole test suite.
# Validation tests read ../shared/data and skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
