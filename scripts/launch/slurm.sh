#!/bin/bash
# Slurm launcher: one torchrun per node (srun --ntasks-per-node=1), torchrun starts one process per GPU.
#
#   sbatch --nodes=2 --export=ALL,CONFIG=config/mup_splus.py,ARGS="--parallel=fsdp" scripts/launch/slurm.sh
#
# Edit the #SBATCH lines for your cluster (partition, account, GPUs per node).
#SBATCH --job-name=nanomup
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%j.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
CONFIG=${CONFIG:-config/mup_adamw.py}
ARGS=${ARGS:-}
GPUS_PER_NODE=${GPUS_PER_NODE:-${SLURM_GPUS_ON_NODE:-8}}
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MASTER_PORT=${MASTER_PORT:-29500}
PYTHON=${PYTHON:-.venv/bin/python}
echo "nanomup: $SLURM_JOB_NUM_NODES nodes x $GPUS_PER_NODE GPUs, rendezvous at $MASTER_ADDR:$MASTER_PORT"
srun --ntasks-per-node=1 \
    "$PYTHON" -m torch.distributed.run --nnodes="$SLURM_JOB_NUM_NODES" --nproc_per_node="$GPUS_PER_NODE" \
    --rdzv_backend=c10d --rdzv_endpoint="$MASTER_ADDR:$MASTER_PORT" --rdzv_id="$SLURM_JOB_ID" \
    train.py "$CONFIG" $ARGS
