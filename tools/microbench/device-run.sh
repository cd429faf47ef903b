#!/usr/bin/env bash
# One shot on a lent GPU: check, measure a quick sweep sized to the minutes available, calibrate a new
# profile from it and validate the shipped profile against it, all into one directory ready to commit.
#
#   tools/microbench/device-run.sh [--out DIR] [--minutes N] [--gpu CATALOG_GPU] [--microbench BIN]
#                                  [--gpufleet BIN] [--power-limits W1,W2,...]
#   tools/microbench/device-run.sh --finish DIR [--gpu CATALOG_GPU] [--gpufleet BIN]
#
# The sweep runs op group by op group, each under its own time limit (SIGINT: the suite keeps the rows it
# measured), so a slow group never eats the others' minutes. Where `gpufleet` cannot run on the GPU machine
# (a lent machine without the project's libraries), the measurement half still runs and `--finish DIR`
# does calibrate, validate and the summary on the build host. Nothing is downloaded; libraries are looked
# for next to the binary (lib/), in the CUDA toolkit and in Python's nvidia-* wheels.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="" minutes=7 gpu="" finish="" mb="" gf="" limits=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --gpu) gpu=$2; shift 2 ;;
    --finish) finish=$2; shift 2 ;;
    --microbench) mb=$2; shift 2 ;;
    --gpufleet) gf=$2; shift 2 ;;
    --power-limits) limits=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "device-run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || (( minutes < 3 )); then
  echo "device-run.sh: --minutes '$minutes'; expected a whole number >= 3" >&2; exit 2
fi
mb=${mb:-$root/build/tools/microbench/gpufleet-microbench}
gf=${gf:-$root/build/gpufleet}

# The catalog GPU of an NVML name ("NVIDIA H200" -> H200-SXM-141GB); empty when unknown.
catalog_gpu() {
  case "$1" in
    *H200*) echo H200-SXM-141GB ;;
    *H100*PCIe*) echo H100-PCIe-80GB ;;
    *H100*) echo H100-SXM-80GB ;;
    *A100*40GB*) echo A100-SXM-40GB ;;
    *A100*) echo A100-SXM-80GB ;;
    *L40S*) echo L40S ;;
    *L4*) echo L4 ;;
    *) echo "" ;;
  esac
}

gpufleet_runs() { [[ -x "$gf" ]] && "$gf" --version >/dev/null 2>&1; }

# calibrate + validate + summary for a results directory holding microbench.csv.
finish_dir() {
  local dir=$1 csv=$1/microbench.csv name
  [[ -s "$csv" ]] || { echo "device-run.sh: $csv is missing or empty" >&2; return 2; }
  if [[ -z "$gpu" ]]; then
    name=$(awk -F, '!/^#/ && $1 != "schema_version" {print $2; exit}' "$csv")
    gpu=$(catalog_gpu "$name")
    [[ -n "$gpu" ]] || { echo "device-run.sh: no catalog GPU for '$name'; pass --gpu" >&2; return 2; }
  fi
  if ! gpufleet_runs; then
    echo "device-run.sh: $gf does not run here; finish on the build host: $0 --finish $dir --gpu $gpu" |
      tee "$dir/NEXT.txt"
    return 0
  fi
  echo "== calibrate ($gpu)"
  "$gf" calibrate --source microbench "$csv" --gpu "$gpu" -o "$dir/profile.yaml" 2>&1 | tee "$dir/calibrate.txt"
  echo "== validate the shipped $gpu profile against the measurements"
  "$gf" validate --source microbench "$csv" --gpu "$gpu" --points "$dir/validation-points.csv" \
    2>&1 | tee "$dir/validation.txt"
  "$gf" validate --source microbench "$csv" --gpu "$gpu" --json >"$dir/validation.json" 2>/dev/null
  "$gf" validate --source microbench "$csv" --gpu "$gpu" --profile "$dir/profile.yaml" \
    >"$dir/validation-new-profile.txt" 2>&1
  summarize "$dir"
  rm -f "$dir/NEXT.txt"
}

# The largest differences between the shipped profile and the measurements, per op.
summarize() {
  local dir=$1
  command -v python3 >/dev/null || { echo "(no python3: summary skipped)"; return 0; }
  python3 - "$dir" <<'PY' | tee "$dir/summary.txt"
import csv, sys, collections
d = sys.argv[1]
rows = list(csv.DictReader(l for l in open(f"{d}/validation-points.csv") if not l.startswith("#")))
def num(r, *keys):
    for k in keys:
        if k in r and r[k] not in ("", None):
            return float(r[k])
    return None
by = collections.defaultdict(list)
for r in rows:
    m, p = num(r, "measured_s", "measured"), num(r, "predicted_s", "profile_s", "predicted")
    if m and p:
        by[r.get("group") or r.get("op") or "?"].append((p / m - 1, r))
print(f"shipped profile vs measurements ({d}/microbench.csv): predicted/measured - 1")
for g, v in sorted(by.items()):
    errs = sorted(e for e, _ in v)
    med = errs[len(errs) // 2]
    print(f"  {g:<14} n={len(v):5d}  median {med:+7.1%}  min {errs[0]:+7.1%}  max {errs[-1]:+7.1%}")
worst = sorted(((e, g, r) for g, v in by.items() for e, r in v), key=lambda t: abs(t[0]))[-12:]
print("largest differences:")
for e, g, r in reversed(worst):
    print(f"  {e:+8.1%}  {g:<14} {r.get('config', '')}")
PY
}

if [[ -n "$finish" ]]; then
  finish_dir "$finish"
  exit $?
fi

# --- on the GPU machine ---
[[ -x "$mb" ]] || { echo "device-run.sh: $mb not found; build it (README) or pass --microbench" >&2; exit 2; }
libdirs=("$(dirname "$mb")/lib")
for pattern in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64; do
  [[ -d $pattern ]] && libdirs+=("$pattern")
done
for lib in libcublasLt.so.13 libcudnn.so.9 libnccl.so.2; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    found=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -name "$lib" -print 2>/dev/null | head -1)
    [[ -n "$found" ]] && libdirs+=("$(dirname "$found")")
  fi
done
export LD_LIBRARY_PATH="$(IFS=:; echo "${libdirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

out=${out:-microbench-results-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
start=$(date +%s)
{
  echo "date: $(date -u +%FT%TZ)  host: $(hostname)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit,power.default_limit,clocks.max.sm \
    --format=csv 2>&1
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  ldd "$mb" 2>&1 | grep -E "not found|cublas|nccl|cudnn|yaml|fmt" || true
} | tee "$out/machine.txt"

echo "== attention kernels against the CPU reference"
"$mb" --check-only 2>&1 | tee "$out/check.txt"
check=${PIPESTATUS[0]}
name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
gpu=${gpu:-$(catalog_gpu "$name")}

# The sweep, one part per op group with its share of the minutes: every catalog model's shapes in bf16
# (what serving runs and what calibrate fits), compute-bound points over a 200 ms steady window. With
# --power-limits, a last part repeats a few prefill- and decode-like points at each limit (root only).
total=$(( minutes * 60 - 60 ))   # a minute for the check, calibrate and validate
parts=("launch,memory:8:" "gemm:50:" "attention:42:")
if [[ -n "$limits" ]]; then
  parts=("launch,memory:6:" "gemm:42:" "attention:34:" "gemm,attention:18:power")
fi
csvs=()
for part in "${parts[@]}"; do
  IFS=: read -r ops share kind <<<"$part"
  limit=$(( total * share / 100 ))
  part_csv="$out/part-${kind:-${ops//,/-}}.csv"
  args=(--quick --ops "$ops" --dtypes bf16 --max-seconds-per-point 0.25 --steady-window-ms 200)
  if [[ "$kind" == power ]]; then
    args+=(--models Llama-3-70B --tp 8 --tokens 1,128,1024,4096 --attention-kernels cudnn_sdpa --power-limits "$limits")
  fi
  echo "== ${kind:-$ops} (at most ${limit}s)"
  timeout -s INT -k 20 "$limit" "$mb" "${args[@]}" ${gpu:+--gpu-model "$gpu"} --out "$part_csv" \
    --no-progress 2>&1 | tail -25
  [[ -s "$part_csv" ]] && csvs+=("$part_csv")
done 2>&1 | tee "$out/sweep.log"
csvs=()
for f in "$out"/part-*.csv; do [[ -s "$f" ]] && csvs+=("$f"); done
# One file: the first part's comments and header, every part's rows, the later parts' notes (skipped
# points, cuDNN) as comments.
if (( ${#csvs[@]} > 0 )); then
  {
    grep '^#' "${csvs[0]}"
    echo "# device-run.sh: parts ${csvs[*]##*/} merged; each part's command was $mb --quick --ops <part> ..."
    grep -m1 '^schema_version' "${csvs[0]}"
    for f in "${csvs[@]}"; do grep -v -e '^#' -e '^schema_version' "$f"; done
    for f in "${csvs[@]:1}"; do grep -e '^# skipped' -e '^# cudnn' -e '^# interrupted' "$f"; done
  } >"$out/microbench.csv"
  rm -f "${csvs[@]}"
fi
echo "measured in $(( $(date +%s) - start ))s; attention check exit code $check" | tee -a "$out/machine.txt"
finish_dir "$out"
ls -la "$out"
