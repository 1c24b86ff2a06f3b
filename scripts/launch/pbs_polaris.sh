#!/bin/bash
# PBS launcher in the style of ALCF Polaris (4 x A100 per node): one torchrun per node, torchrun starts one
# process per GPU. Gupta et al. ran their sweeps on four A100s of Polaris.
#
#   qsub -l select=2 -v CONFIG=config/mup_adamw.py,ARGS="--parallel=fsdp" scripts/launch/pbs_polaris.sh
#
# Edit the #PBS lines for your allocation (project, queue, filesystems); everything below works on any PBS site
# whose nodes can reach each other on MASTER_PORT.
#PBS -N nanomup
#PBS -l select=1:system=polaris
#PBS -l place=scatter
#PBS -l walltime=01:00:00
#PBS -l filesystems=home:eagle
#PBS -q debug
#PBS -A YOUR_PROJECT
set -euo pipefail
cd "${PBS_O_WORKDIR:-$(dirname "$0")/../..}"
CONFIG=${CONFIG:-config/mup_adamw.py}
ARGS=${ARGS:-}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
NNODES=$(sort -u "$PBS_NODEFILE" | wc -l)
MASTER_ADDR=$(head -n 1 "$PBS_NODEFILE")
MASTER_PORT=${MASTER_PORT:-29500}
PYTHON=${PYTHON:-.venv/bin/python}
echo "nanomup: $NNODES nodes x $GPUS_PER_NODE GPUs, rendezvous at $MASTER_ADDR:$MASTER_PORT"
# one torchrun per node (mpiexec -ppn 1); each picks its node rank from the c10d rendezvous
mpiexec -n "$NNODES" -ppn 1 --hostfile "$PBS_NODEFILE" \
    "$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --nproc_per_node="$GPUS_PER_NODE" \
    --rdzv_backend=c10d --rdzv_endpoint="$MASTER_ADDR:$MASTER_PORT" --rdzv_id="${PBS_JOBID:-nanomup}" \
    train.py "$CONFIG" $ARGS
