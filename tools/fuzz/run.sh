#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in build-fuzz (GPUFLEET_FUZZ=ON), seeds their corpora and
# runs each for RUNS executions (default 1,000,000), one after another at low priority. Installs clang
# and its libFuzzer runtime from Debian 12 when missing. A crash, sanitizer report, leak, timeout or
# broken contract stops that harness, saves the input under build-fuzz/fuzz-artifacts/<harness>/ and
# makes the script fail; build-fuzz/fuzz-summary.md gets a row per harness.
#   bash tools/fuzz/run.sh [RUNS] [HARNESS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-1000000}
shift || true
build=build-fuzz

# The project's own dependencies come from tools/setup.sh; on a fresh machine it installs them.
if ! command -v cmake >/dev/null || ! pkg-config --exists simgrid 2>/dev/null; then bash tools/setup.sh; fi
# Debian 12 ships libFuzzer's runtime (libclang_rt.fuzzer) in libclang-rt-14-dev, beside clang 14.
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$build/build.ninja" ]; then
  # -O2 with line tables for readable reports; asserts stay on (no NDEBUG): a failed assert is a finding.
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DGPUFLEET_FUZZ=ON -DGPUFLEET_MICROBENCH_CUDA=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" >/dev/null
fi
nice -n 10 cmake --build "$build" --target fuzzers -j 2
bash tools/fuzz/seed_corpora.sh "$build"

# Largest input per harness: room for the biggest seed (the annotated scenario is 10 KB, a vidur header
# 1.5 KB plus rows) and, for the trace CSVs, files longer than the readers' smallest 4 KiB line buffer;
# small enough that every execution stays fast.
declare -A max_len=([scenario_fuzzer]=16384 [gpu_profile_fuzzer]=8192 [vidur_compute_fuzzer]=8192
                    [azure_csv_fuzzer]=8192 [native_csv_fuzzer]=8192)
all=(scenario_fuzzer azure_csv_fuzzer native_csv_fuzzer workload_fuzzer vidur_compute_fuzzer
     vidur_network_fuzzer splitwise_fuzzer microbench_csv_fuzzer gpu_profile_fuzzer plan_spec_fuzzer
     melange_json_fuzzer)
selected=("$@")
((${#selected[@]})) || selected=("${all[@]}")

summary=$build/fuzz-summary.md
mkdir -p "$build/fuzz-logs"
[ -f "$summary" ] || {
  echo "| harness | executions | exec/s | wall time | result |"
  echo "|---|---:|---:|---:|---|"
} > "$summary"
failed=0
for h in "${selected[@]}"; do
  log=$build/fuzz-logs/$h.log
  artifacts=$build/fuzz-artifacts/$h/
  mkdir -p "$artifacts"
  echo "fuzz: $h, $runs executions (log: $log)" >&2
  start=$(date +%s)
  status=0
  UBSAN_OPTIONS=print_stacktrace=1 nice -n 10 "$build/tools/fuzz/$h" -runs="$runs" -max_len="${max_len[$h]:-4096}" \
    -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$build/fuzz-corpus/$h" > "$log" 2>&1 || status=$?
  wall=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if ((status == 0)); then
    result="0 crashes"
  else
    result="FAILED (exit $status): $(ls "$artifacts" | head -3 | tr '\n' ' ')"
    failed=1
    grep -m 5 -E "ERROR|runtime error|contract violated|Timeout|leak" "$log" >&2 || tail -20 "$log" >&2
  fi
  printf '| %s | %s | %s | %dm%02ds | %s |\n' "$h" "${execs:-?}" "${rate:-?}" $((wall / 60)) $((wall % 60)) \
    "$result" | tee -a "$summary"
done
exit $failed
