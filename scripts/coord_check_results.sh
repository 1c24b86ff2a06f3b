#!/usr/bin/env bash
# Regenerate results/coord_check/: the activation, update and depth coordinate checks (CSV + PNG each) and the
# width / depth slope tables of every parameterization x optimizer x head rule (tests/test_*_stability.py).
#   $ bash scripts/coord_check_results.sh            (CPU, one thread: a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
O=results/coord_check
U="--measure=update --widths=32,64,128,256,512,1024 --base_width=32 --batch_size=2 --block_size=4 --learning_rate=3e-3 --init_std_embedding=1.0"
D="--depths=2,4,8,16 --width=64 --base_width=64 --batch_size=2 --block_size=4 --learning_rate=3e-3 --init_std_embedding=1.0"
t0=$(date +%s)
$PY scripts/coord_check.py --parameterization=mup --device=cpu --out_dir=$O
$PY scripts/coord_check.py --parameterization=sp --lr_scaling=global --device=cpu --out_dir=$O
$PY scripts/coord_check.py $U --parameterization=mup --device=cpu --out_dir=$O --tag=mup_adamw_update
$PY scripts/coord_check.py $U --parameterization=sp --lr_scaling=global --device=cpu --out_dir=$O --tag=sp_global_adamw_update
$PY scripts/coord_check.py $U --parameterization=mup --head_dim=16 --device=cpu --out_dir=$O --tag=mup_adamw_head_dim16_update
$PY scripts/coord_check.py $U --parameterization=sp --lr_scaling=global --head_dim=16 --device=cpu --out_dir=$O --tag=sp_global_adamw_head_dim16_update
# tied wte / lm_head: the shared matrix is also the readout, so it keeps the default init std 0.02 (see README.md)
$PY scripts/coord_check.py $U --init_std_embedding=0.02 --tie_embeddings=True --parameterization=mup --device=cpu --out_dir=$O --tag=mup_adamw_tied_update
for a in 0 0.5 1; do
  $PY scripts/coord_check.py $D --depth_alpha=$a --device=cpu --out_dir=$O --tag=mup_adamw_depth_alpha$a
done
$PY -m pytest -q -s tests/test_width_stability.py tests/test_depth_stability.py > /dev/null
cp out/width_stability/slopes.md $O/width_stability_slopes.md
cp out/depth_stability/slopes.md $O/depth_stability_slopes.md
echo "done in $(( $(date +%s) - t0 )) s with OMP_NUM_THREADS=$OMP_NUM_THREADS on $(date -u +%Y-%m-%d)"
