#!/usr/bin/env bash
# Seeds the fuzzers' corpora in BUILD_DIR/fuzz-corpus/<harness>/ (default build-fuzz): the shipped
# scenarios and profiles, small prefixes of the real measurement files in ../shared/data (never copied
# into the repository: the corpus lives in the build folder), a few hand-written edge cases, and the
# saved crash inputs of tools/fuzz/regressions/. Rerunning it only adds files; libFuzzer keeps what it
# found in the same folders.
#   bash tools/fuzz/seed_corpora.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
corpus=$build/fuzz-corpus
data=../shared/data
harnesses=(scenario_fuzzer azure_csv_fuzzer native_csv_fuzzer workload_fuzzer vidur_compute_fuzzer
           vidur_network_fuzzer splitwise_fuzzer microbench_csv_fuzzer gpu_profile_fuzzer plan_spec_fuzzer
           melange_json_fuzzer)
for h in "${harnesses[@]}"; do mkdir -p "$corpus/$h"; done

# seed HARNESS NAME: stdin becomes one corpus file, cut to 16 KiB (the largest -max_len run.sh uses).
seed() { head -c 16384 > "$corpus/$1/seed-$2"; }
# prefix FILE LINES: the first LINES lines of a data file.
prefix() { head -n "$2" "$1"; }

# Scenarios and profiles from the repository.
while IFS= read -r f; do seed scenario_fuzzer "$(echo "$f" | tr / _)" < "$f"; done \
  < <(find scenarios -name '*.yaml' | sort)
for f in models/calibration/*.yaml; do seed gpu_profile_fuzzer "$(basename "$f")" < "$f"; done
for f in scenarios/plans/*.yaml; do seed plan_spec_fuzzer "$(basename "$f")" < "$f"; done
for f in scenarios/plans/*.json; do seed melange_json_fuzzer "$(basename "$f")" < "$f"; done

# Hand-written plans (docs/planning.md): the smallest one, every field, and two that are refused (a
# `set` of what the plan decides, a section that is not supported yet).
printf 'base: ../azure-conv.yaml\ncandidates:\n  gpus: [H100-SXM-80GB]\n' | seed plan_spec_fuzzer minimal
cat <<'PLAN' | seed plan_spec_fuzzer every-field
name: every-field
base: ../azure-conv.yaml
set: {slos.tbt.target_s: 0.1, workload.window_s: [0, 600], router.policy: least_loaded}
rates: [0.5, 1, 2.5]
candidates:
  gpus:
    - H100-SXM-80GB
    - {gpu: A100-SXM-80GB, price_usd_per_hour: 1.5, max_gpus: 64}
  tensor_parallel: 4
  max_batched_tokens: [512, 2048]
  scheduler: [sarathi, vllm]
  max_batch_size: 128
  allow_mixes: false
objective: goodput_per_dollar
seeds: [1, 2, 3]
search: {max_simulations: 50, time_limit_s: 600, tolerance: 0.1, max_repairs: 4}
PLAN
printf 'base: b.yaml\nset:\n  deployment[0].replicas: 2\ncandidates: {gpus: [H100-SXM-80GB]}\n' | seed plan_spec_fuzzer set-deployment
printf 'base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\npower: {budget_w: 1000}\n' | seed plan_spec_fuzzer power

# Hand-written Mélange inputs (melange_input.h): availability limits, zero shares and tputs, a slice
# factor above 1, and two without an allocation (a bucket no GPU serves; too few GPUs available).
cat <<'JSON' | seed melange_json_fuzzer max-count
{"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1], [5, 2]], "max_count": 4},
              "L4": {"cost": 0.7, "tputs": [[1.5, 0.5], [3, 1]], "max_count": 10},
              "A100-80GB": {"cost": 3.67, "tputs": [[20, 20], [40, 20]]}},
 "workload_distribution": [[0.2, 0.1], [0.5, 0.2]], "total_request_rate": 30, "slice_factor": 4}
JSON
cat <<'JSON' | seed melange_json_fuzzer zeros
{"gpu_info": {"A10G": {"cost": 0, "tputs": [[2, 0, 0], [0, 0, 0]]},
              "H100": {"cost": 4.5, "tputs": [[30, 10, 0], [0, 8, 4]]}},
 "workload_distribution": [[0.5, 0.25, 0], [0, 0.25, 0]], "total_request_rate": 0.0, "slice_factor": 2}
JSON
cat <<'JSON' | seed melange_json_fuzzer near-limits
{"gpu_info": {"A": {"cost": 999999999, "tputs": [[1e-6, 1e300]], "max_count": 9000000000000000},
              "B": {"cost": 5e-324, "tputs": [[0, 1e-6]]}},
 "workload_distribution": [[0.999, 1e-300]], "total_request_rate": 1000000, "slice_factor": 16}
JSON
cat <<'JSON' | seed melange_json_fuzzer infeasible-unserved
{"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 0]]}, "L4": {"cost": 0.7, "tputs": [[1, 0]]}},
 "workload_distribution": [[0.6, 0.4]], "total_request_rate": 10, "slice_factor": 1}
JSON
cat <<'JSON' | seed melange_json_fuzzer infeasible-max-count
{"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1]], "max_count": 1}, "L4": {"cost": 0.7, "tputs": [[1, 1]], "max_count": 0}},
 "workload_distribution": [[0.5, 0.5]], "total_request_rate": 100, "slice_factor": 8}
JSON

# The workload fuzzer's 16 option bytes (tools/fuzz/targets/trace_targets.h): byte 0 picks the source
# (bit 0 native, bit 1 synthetic resampling, bit 2 gamma, bit 3 window, bit 5 cap, bit 6 horizon);
# zero bytes keep every default.
options() { printf "\\x$(printf %02x "$1")"; head -c 15 /dev/zero; }

# Hand-written traces: header only, CRLF and blank lines, zero tokens, equal timestamps, comments.
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\n' | seed azure_csv_fuzzer header-only
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.6805900,374,44\r\n\r\n2023-11-16 18:15:46.6805900,0,0\r\n2023-11-16T18:15:50,12,3' \
  | seed azure_csv_fuzzer crlf
printf '# comment\n\narrival_s,prompt_tokens,output_tokens\n0,512,128\n0.5,1,1\n0.5,4096,2\n' | seed native_csv_fuzzer basic
printf 'arrival_s,prompt_tokens,output_tokens,priority,class\r\n0.000,512,128,1,0\r\n# mid comment\r\n1e3,7,9,-2,3\r\n' \
  | seed native_csv_fuzzer optional-columns
printf 'arrival_s,prompt_tokens,output_tokens,class,priority\n0,1,1,0,0\n' | seed native_csv_fuzzer columns-swapped
{ options 0; cat "$corpus/azure_csv_fuzzer/seed-crlf"; } | seed workload_fuzzer azure-defaults
{ options 1; cat "$corpus/native_csv_fuzzer/seed-basic"; } | seed workload_fuzzer native-defaults
{ options $((1 | 2 | 4 | 64)); cat "$corpus/native_csv_fuzzer/seed-optional-columns"; } | seed workload_fuzzer synthetic-gamma
{ options $((1 | 8 | 32 | 64)); cat "$corpus/native_csv_fuzzer/seed-basic"; } | seed workload_fuzzer window-cap-horizon

# The microbenchmark CSV (docs/microbench-csv.md): one row of each op family.
{
  echo "# seed written by tools/fuzz/seed_corpora.sh (not a measurement)"
  echo "schema_version,gpu_name,driver_version,cuda_version,op,dtype,m,n,k,batch,q_tokens,kv_tokens,heads,kv_heads,head_dim,bytes,ranks,power_limit_w,time_us_median,time_us_p10,time_us_p90,samples,mean_power_w,sm_clock_mhz"
  echo "1,seed-gpu,seed,seed,gemm,bf16,512,1280,8192,0,0,0,0,0,0,0,1,700,12.345678901234567,12,13.1,37,612.25,1980"
  echo "1,seed-gpu,seed,seed,attn_prefill,fp16,0,0,0,4,512,512,32,8,128,0,1,700,40,39,41,20,,"
  echo "1,seed-gpu,seed,seed,attn_decode,fp16,0,0,0,64,1,2048,32,8,128,0,1,0,30,29,31,20,,"
  echo "1,seed-gpu,seed,seed,hbm_copy,,0,0,0,0,0,0,0,0,0,1073741824,1,700,400,399,401,10,650,1755"
  echo "1,seed-gpu,seed,seed,launch,,0,0,0,0,0,0,0,0,0,0,1,700,2.5,2.4,2.6,100,,"
  echo "1,seed-gpu,seed,seed,all_reduce,bf16,0,0,0,0,0,0,0,0,0,16777216,8,700,90,88,95,10,,"
} | seed microbench_csv_fuzzer all-ops

# Prefixes of the real measurement files, when ../shared/data is present.
if [ -d "$data" ]; then
  for f in "$data"/azure-llm-2023/*.csv; do
    for n in 3 40; do prefix "$f" $n | seed azure_csv_fuzzer "$(basename "$f" .csv)-$n"; done
    { options 0; prefix "$f" 30; } | seed workload_fuzzer "$(basename "$f" .csv)-superpose"
    { options 2; prefix "$f" 30; } | seed workload_fuzzer "$(basename "$f" .csv)-resample"
    # The same rows as a native trace: arrivals in seconds from the first row.
    prefix "$f" 40 | awk -F, 'NR == 1 { print "arrival_s,prompt_tokens,output_tokens"; next }
      { split($1, d, /[- :]/); t = d[4] * 3600 + d[5] * 60 + d[6]; if (NR == 2) t0 = t;
        printf "%.6f,%d,%d\n", t - t0, ($2 > 0 ? $2 : 1), ($3 > 0 ? $3 : 1) }' \
      | seed native_csv_fuzzer "$(basename "$f" .csv)-native"
  done
  while IFS= read -r f; do
    name=$(echo "${f#"$data"/vidur-profiles/compute/}" | tr / _)
    prefix "$f" 4 | seed vidur_compute_fuzzer "$name"
  done < <(find "$data/vidur-profiles/compute" -name mlp.csv | sort)
  while IFS= read -r f; do
    name=$(echo "${f#"$data"/vidur-profiles/network/}" | tr / _)
    prefix "$f" 12 | seed vidur_network_fuzzer "$name"
  done < <(find "$data/vidur-profiles/network" -name '*.csv' | sort)
  for f in "$data"/splitwise/*.csv; do
    prefix "$f" 40 | seed splitwise_fuzzer "$(basename "$f" .csv)"
    { head -n 1 "$f"; grep -m 10 h100 "$f"; } | seed splitwise_fuzzer "$(basename "$f" .csv)-h100"
  done
else
  echo "seed_corpora: $data is absent; seeding from the repository's files only" >&2
fi

# Saved crash inputs: each fuzzer starts from the ones that broke it before.
for h in "${harnesses[@]}"; do
  if [ -d "tools/fuzz/regressions/$h" ]; then
    find "tools/fuzz/regressions/$h" -type f ! -name '*.md' -exec cp {} "$corpus/$h/" \;
  fi
done
for h in "${harnesses[@]}"; do echo "seed_corpora: $h: $(ls "$corpus/$h" | wc -l) inputs" >&2; done
