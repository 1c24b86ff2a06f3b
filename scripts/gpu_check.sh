#!/usr/bin/env bash
# The GPU check: every CUDA path of the repository and its speed tables in one run of at most 8 minutes on one
# H100/H200, every table written to one folder.
#
#   bash scripts/gpu_check.sh                 # writes results/gpu/ (OUT=dir to change it)
#   bash scripts/gpu_check.sh --dry-run       # prints the steps (budget in seconds, then the command); runs nothing
#
# Steps (each under `timeout` with its own budget, cut to what is left of TOTAL, so one hung step cannot take the
# whole run; a step that fails or times out is logged and the next one runs):
#   1. the CUDA kernel tests: tests/test_kernels.py compiled on the GPU, fp32 and bf16 and with TF32 on
#   2. scripts/bench_kernels.py: Triton kernels vs torch eager at the GPT-2 and width-2048 shapes (no compile column)
#   3-5. scripts/bench_train.py presets gpt2, baby, w2048 (AdamW, bf16, torch.compile) against their step targets
#   6. the optimizer-overhead table: every optimizer at GPT-2 124M as x AdamW, in one process
#   7. a 300-step config/mup_adamw.py run in bf16 with torch.compile (the training loop end to end)
#   8. scripts/bench_optim.py on CUDA: ours vs peer libraries' step() at GPT-2 shapes (stops at its budget_s)
# Output: $OUT/gpu_check.log (each step's command, exit status and seconds) and one file per table.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-results/gpu}
TOTAL=${TOTAL:-480}
PY=${PYTHON:-python3}
DRY=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    *) echo "error: unknown argument '$arg': use --dry-run or none (OUT=dir, TOTAL=seconds, PYTHON=python)" >&2; exit 2 ;;
  esac
done

# Budgets from a run on one H200 (torch 2.11, 2026-11-29): the kernel tests took over 45 s with a cold Triton cache
# (54 passed in 14 s warm), bench_kernels 12 s, the presets 39/32/40 s, the optimizer table reached 14 of its 15
# rows in 120 s, the 300-step run 49 s, bench_optim's gpt2 model about 90 s for one round at --budget_s=70.
STEPS=(
  "75|kernel_tests.txt|$PY -m pytest tests/test_kernels.py -q -p no:cacheprovider"
  "20|bench_kernels.txt|$PY scripts/bench_kernels.py --no-compile --out $OUT/bench_kernels.md"
  "45|bench_train_gpt2.txt|$PY scripts/bench_train.py --preset=gpt2 --out=$OUT/bench_train.md"
  "35|bench_train_baby.txt|$PY scripts/bench_train.py --preset=baby --out=$OUT/bench_train.md"
  "45|bench_train_w2048.txt|$PY scripts/bench_train.py --preset=w2048 --out=$OUT/bench_train.md"
  "150|bench_train_optimizers.txt|$PY scripts/bench_train.py --preset=gpt2 --optimizers=all --warmup=5 --out=$OUT/bench_train_optimizers.md"
  "55|train_mup_adamw.txt|$PY train.py config/mup_adamw.py --max_iters=300 --lr_decay_iters=300 --eval_interval=150 --eval_iters=10 --log_interval=50 --dtype=bfloat16 --compile=True --out_dir=out/gpu_check --run_name=mup_adamw_300 --overwrite=True"
  "55|bench_optim.txt|$PY scripts/bench_optim.py --model=gpt2 --device=cuda --rounds=20 --period=10 --budget_s=40 --compile_peers=False --out=$OUT/bench_optim.md"
)

if [ "$DRY" = 1 ]; then
  for s in "${STEPS[@]}"; do
    IFS='|' read -r budget log cmd <<< "$s"
    echo "[${budget} s] $cmd"
  done
  echo "total budget ${TOTAL} s; logs and tables in $OUT/"
  exit 0
fi

mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
{ date; nvidia-smi -L 2>&1; $PY -c 'import torch; print("torch", torch.__version__)' 2>&1; } > "$LOG"
[ -f data/shakespeare_char/train.bin ] || $PY data/shakespeare_char/prepare.py >> "$LOG" 2>&1
start=$SECONDS
for s in "${STEPS[@]}"; do
  IFS='|' read -r budget log cmd <<< "$s"
  left=$((TOTAL - (SECONDS - start)))
  if [ "$left" -lt 10 ]; then
    echo "SKIPPED (no time left): $cmd" | tee -a "$LOG"
    continue
  fi
  t=$((budget < left ? budget : left))
  t0=$SECONDS
  timeout --kill-after=5 "$t" $cmd > "$OUT/$log" 2>&1
  rc=$?
  status=$([ $rc = 0 ] && echo ok || ([ $rc = 124 ] && echo "TIMED OUT after ${t} s" || echo "FAILED rc=$rc"))
  echo "[$((SECONDS - t0)) s of ${t}] $status: $cmd" | tee -a "$LOG"
  tail -n 3 "$OUT/$log" | sed 's/^/    /'
done
echo "total $((SECONDS - start)) s; logs and tables in $OUT/" | tee -a "$LOG"
