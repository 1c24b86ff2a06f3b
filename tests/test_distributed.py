"""torchrun DDP and FSDP2 on the CPU (gloo, 2 processes): every optimizer of the registry ends bitwise where the
single-process run with the same global batch ends; resume under DDP and FSDP is exact; a 2-rank checkpoint
continues in 1 process.

The global batch does not depend on the world size (one data stream per global micro-step, train.py), so
1 process x 2 micro-steps and 2 ranks x 1 micro-step see the same tokens, and whole-tensor optimizers run on the
full matrices on their owner ranks (optim/distributed.py). The ranks are started directly with torchrun's
environment variables (one test goes through the real `torchrun` launcher)."""

import json
import os
from concurrent.futures import ThreadPoolExecutor
import shutil
import socket
import subprocess
import sys

import pytest
import torch

import optim
from conftest import ROOT

# every run: config/debug_cpu.py, 4 steps of a 2 x 8 x 32-token global batch, evaluations (and checkpoints) at 2
# and 4; refreshes inside 4 steps for the optimizers that have them (Sophia's Hessian, SPlus/SOAP/Shampoo bases).
# No gradient clipping here: the global norm is the one thing FSDP sums in another order (per-shard partial
# sums, then an all-reduce), and a clip coefficient that differs in the last bit makes every later step differ
# in the last bits. Without it, every optimizer under DDP and FSDP2 ends bitwise where the single process ends:
# DDP averages (g0 + g1) / 2 and the single process accumulates g0 / 2 + g1 / 2, which is the same float.
BASE = ['config/debug_cpu.py', '--max_iters=4', '--eval_interval=2', '--eval_iters=2', '--log_interval=1',
        '--gradient_accumulation_steps=2', '--batch_size=8', '--learning_rate=3e-3', '--grad_clip=0',
        '--hessian_micro_steps=0', '--sophia_k=2', '--splus_inverse_every=2', '--splus_ema_rate=0.9',
        '--soap_precond_every=2', '--shampoo_precond_every=2', '--shampoo_start_precond=0', '--alignment_interval=2']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_ranks(argv, world_size, timeout=240):
    """Run `python *argv` as `world_size` processes with torchrun's environment (the repository on PYTHONPATH):
    [(returncode, stdout, stderr)] per rank."""
    port = free_port()
    procs = []
    for rank in range(world_size):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                   LOCAL_WORLD_SIZE=str(world_size), MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                   OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1', PYTHONPATH=str(ROOT))
        procs.append(subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=timeout) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs)]


def run_ranks(args, world_size, timeout=240):
    """Start `world_size` train.py processes with torchrun's environment; all must succeed."""
    ranks = start_ranks(['train.py', *args], world_size, timeout)
    for rc, out, err in ranks:
        assert rc == 0, f"rank failed:\n{out[-2000:]}\n{err[-3000:]}"
    return ranks[0][1]


def run_single(args, timeout=240):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    r = subprocess.run([sys.executable, 'train.py', *args], cwd=ROOT, env=env, text=True, capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout


def result(run_dir):
    """(model state dict of ckpt.pt, [val losses], [train losses and alignment rows]) of a finished run."""
    ck = torch.load(os.path.join(run_dir, 'ckpt.pt'), map_location='cpu', weights_only=False)
    rows = [json.loads(l) for l in open(os.path.join(run_dir, 'metrics.jsonl'))]
    return (ck['model'], [r['val_loss'] for r in rows if r['kind'] == 'eval'],
            [r['loss'] for r in rows if r['kind'] == 'train'] + [r for r in rows if r['kind'] == 'alignment'])


def run(root, name, mode, *extra):
    """The finished run of optimizer `name` under mode single | ddp | fsdp (started once per test module)."""
    out = root / name
    if not (out / mode / 'summary.json').exists():
        args = BASE + [f'--optimizer={name}', f'--out_dir={out}', f'--run_name={mode}', *extra]
        if mode == 'single':
            run_single(args)
        else:
            run_ranks(args + [f'--parallel={mode}'], 2)
    return out / mode


@pytest.fixture(scope='module')
def runs(tmp_path_factory, char_data):
    """Every optimizer's single / ddp / fsdp run, two launches at a time: a rank's start-up (importing torch) is
    most of a run, and two launches keep both CI cores busy. A failed launch fails its own test only."""
    root = tmp_path_factory.mktemp('dist')
    jobs = [(name, mode) for name in optim.REGISTRY for mode in ('single', 'ddp', 'fsdp')]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda job: _try(run, root, *job), jobs))
    return root


def _try(fn, *args):
    try:
        fn(*args)
    except AssertionError:
        pass  # the test that reads this run calls run() again and shows the error


@pytest.mark.parametrize('name', list(optim.REGISTRY))
def test_ddp_and_fsdp_match_single_process_bitwise(name, runs):
    ref, ref_val, ref_train = result(run(runs, name, 'single'))
    for mode in ('ddp', 'fsdp'):
        got, val, train = result(run(runs, name, mode))
        assert got.keys() == ref.keys()
        for k in ref:
            assert torch.equal(got[k], ref[k]), f"{name} {mode}: {k} differs by {(got[k] - ref[k]).abs().max():.3g}"
        # the logged train loss is the mean over micro-steps and ranks: the same number whatever the world size
        assert val == ref_val and train == ref_train, (mode, val, ref_val, train, ref_train)


@pytest.mark.parametrize('name', ['adamw'])
def test_fsdp_with_gradient_clipping_matches_within_rounding(name, runs):
    """With clipping, only the global norm's summation order differs: fp32 AdamW stays within 1e-5 after 4
    steps at LR 3e-3 (observed below 1e-6)."""
    a, va, _ = result(run(runs / 'clip', name, 'single', '--grad_clip=0.5'))
    b, vb, _ = result(run(runs / 'clip', name, 'fsdp', '--grad_clip=0.5'))
    dmax = max((a[k] - b[k]).abs().max().item() for k in a)
    assert dmax < 1e-5, dmax
    torch.testing.assert_close(torch.tensor(vb), torch.tensor(va), rtol=1e-5, atol=1e-6)


def test_psgd_noise_is_identical_on_every_rank():
    """PSGD's random probe vectors come from a generator keyed by (seed, parameter name, update index), so two
    ranks (two processes) draw the same numbers."""
    code = ("import torch; from optim.psgd import PSGDKron; p = torch.nn.Parameter(torch.zeros(3, 4)); "
            "print(PSGDKron([p]).noise(p, 'transformer.h.0.attn.c_attn.weight', 5, 0).sum().item())")
    vals = {subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True).stdout
            for _ in range(2)}
    assert len(vals) == 1 and vals.pop().strip() not in ('', '0.0')


@pytest.mark.parametrize('name,mode', [('adamw', 'fsdp'), ('splus', 'ddp'), ('splus', 'fsdp')])
def test_resume_is_exact_and_two_rank_checkpoint_loads_in_one_process(name, mode, runs):
    """Stopped at iteration 2 and resumed to 4, under 2 ranks and in 1 process: both end bitwise where the
    uninterrupted run ends (AdamW under FSDP: DTensor optimizer states; SPlus: states held by owner ranks)."""
    full, full_val, full_train = result(run(runs, name, mode))
    cut = runs / f'cut_{name}_{mode}'
    args = BASE + [f'--optimizer={name}', f'--out_dir={cut}', f'--parallel={mode}']
    run_ranks(args + ['--run_name=a', '--max_iters=2'], 2)
    ck = torch.load(cut / 'a' / 'ckpt.pt', map_location='cpu', weights_only=False)
    assert ck['iter_num'] == 2 and all(not hasattr(v, 'device_mesh') for v in ck['model'].values())
    shutil.copytree(cut / 'a', cut / 'b')
    run_ranks(args + ['--run_name=a', '--init_from=resume'], 2)  # 2 ranks -> 2 ranks
    run_single([a for a in args if not a.startswith('--parallel')] + ['--run_name=b', '--init_from=resume'])
    for sub in ('a', 'b'):  # b: the 2-rank checkpoint continued in 1 process
        got, val, train = result(cut / sub)
        for k in full:
            assert torch.equal(got[k], full[k]), f"{name} {mode} -> {sub}: {k} differs after resume"
        assert val == full_val and train == full_train, (sub, val, full_val, train, full_train)


def test_torchrun_launcher_ddp(char_data, tmp_path):
    """The README's command line: the real torchrun launcher, 2 processes."""
    out = tmp_path / 'torchrun'
    torchrun = os.path.join(os.path.dirname(sys.executable), 'torchrun')
    r = subprocess.run([torchrun, '--standalone', '--nproc_per_node=2', 'train.py', *BASE, f'--out_dir={out}',
                        '--run_name=tr'], cwd=ROOT, capture_output=True, text=True, timeout=240,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'tokens per iteration: 512 (2 ranks x 1 micro-steps x 8 x 32) with DDP' in r.stdout
    summary = json.load(open(out / 'tr' / 'summary.json'))
    assert summary['iters'] == 4 and summary['tokens'] == 4 * 512 and not summary['diverged']


def test_bad_parallel_settings_fail_with_one_line(char_data):
    r = subprocess.run([sys.executable, 'train.py', 'config/debug_cpu.py', '--parallel=fsdp'], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and 'needs torchrun' in r.stderr and 'Traceback' not in r.stderr
    r = subprocess.run([sys.executable, 'train.py', 'config/debug_cpu.py', '--parallel=zero3'], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unknown parallel 'zero3'" in r.stderr


@pytest.mark.parametrize('launcher', ['pbs_polaris.sh', 'slurm.sh'])
def test_cluster_launchers_start_one_torchrun_per_node(launcher, char_data, tmp_path):
    """The PBS and Slurm scripts on a one-node 'cluster': mpiexec / srun / scontrol are shims that run the
    per-node command once, so the script's own torchrun line (c10d rendezvous, 2 CPU processes) really runs."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    shims = {  # drop the launcher's own options, run the per-node command
        'mpiexec': 'while [ "$#" -gt 0 ]; do case "$1" in -n|-ppn|--hostfile) shift 2;; *) break;; esac; done\nexec "$@"',
        'srun': 'while [ "$#" -gt 0 ]; do case "$1" in --*) shift;; *) break;; esac; done\nexec "$@"',
        'scontrol': 'echo 127.0.0.1',
    }
    for name, body in shims.items():
        (bin_dir / name).write_text('#!/bin/bash\n' + body + '\n')
        (bin_dir / name).chmod(0o755)
    nodefile = tmp_path / 'nodes'
    nodefile.write_text('127.0.0.1\n')
    out = tmp_path / 'out'
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', PBS_NODEFILE=str(nodefile), PBS_O_WORKDIR=str(ROOT),
               SLURM_SUBMIT_DIR=str(ROOT), SLURM_JOB_NODELIST='localhost', SLURM_JOB_NUM_NODES='1',
               SLURM_JOB_ID='1', GPUS_PER_NODE='2', PYTHON=sys.executable, MASTER_PORT=str(free_port()),
               OMP_NUM_THREADS='1', CONFIG='config/debug_cpu.py',
               ARGS=' '.join(BASE[1:] + ['--max_iters=2', f'--out_dir={out}', '--run_name=l', '--parallel=fsdp']))
    r = subprocess.run(['bash', str(ROOT / 'scripts' / 'launch' / launcher)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert '1 nodes x 2 GPUs' in r.stdout and 'with FSDP2' in r.stdout
    assert json.load(open(out / 'l' / 'summary.json'))['iters'] == 2


def test_divergence_stops_every_rank_together(char_data, tmp_path):
    """A diverging FSDP run: every rank leaves the loop at the same iteration, rank 0 writes diverged: true."""
    args = BASE + ['--learning_rate=30', '--max_iters=20', '--eval_interval=20', f'--out_dir={tmp_path}',
                   '--run_name=d', '--parallel=fsdp', '--diverge_factor=1.5']
    out = run_ranks(args, 2)
    summary = json.load(open(tmp_path / 'd' / 'summary.json'))
    assert summary['diverged'] and summary['iters'] < 20 and 'DIVERGED' in out


GATHER_CHECK = '''
import torch, torch.distributed as dist
from torch.distributed.fsdp import fully_shard
from optim.distributed import _row_sharded, gather_to, scatter_from
dist.init_process_group('gloo')
rank = dist.get_rank()
for rows in (5, 1, 4):  # uneven (3 + 2), a rank with no rows (1 + 0), even
    torch.manual_seed(0)
    m = torch.nn.Linear(3, rows, bias=False)
    ref = m.weight.detach().clone()
    fully_shard(m)
    p = m.weight
    assert _row_sharded(p), p.placements
    full = gather_to(p.data, 1)
    assert (full is None) == (rank != 1)
    if rank == 1:
        assert torch.equal(full, ref), (rows, full, ref)
    scatter_from(ref * 2 if rank == 1 else None, p, 1)
    assert torch.equal(p.full_tensor(), ref * 2), rows
print('ok', rank, flush=True)
from dist import finish  # the repository's teardown (dist.py), as train.py ends
finish()
'''


EXIT_CHECK = '''
import torch, torch.distributed as dist
from torch.distributed.fsdp import fully_shard
dist.init_process_group('gloo')
m = torch.nn.Linear(3, 5, bias=False)
fully_shard(m)
m(torch.ones(2, 3)).sum().backward()
print('ok', dist.get_rank(), m.weight.full_tensor().shape[0], flush=True)
from dist import finish
finish()
print('not reached', flush=True)
'''


def test_finish_exits_cleanly_after_fsdp():
    """dist.finish ends every rank with status 0 and nothing after it runs. Ending normally after
    destroy_process_group instead aborted one rank with SIGABRT after the program's last line (interpreter
    finalization with FSDP2 objects alive) in 4 of 80 runs of GATHER_CHECK (the uneven-shards program) on a
    loaded 2-core machine; with finish, 0 of 80: finish skips finalization, so that abort cannot happen."""
    for _ in range(6):
        for rank, (rc, out, err) in enumerate(start_ranks(['-c', EXIT_CHECK], 2, timeout=120)):
            assert rc == 0 and out == f'ok {rank} 5\n', (rc, out, err[-2000:])


def test_gather_to_owner_and_scatter_back_on_uneven_shards():
    """FSDP2 shards in torch.chunk layout (uneven, and a rank with no rows): the owner gets the exact tensor, and
    its new value comes back to every shard exactly."""
    for rc, out, err in start_ranks(['-c', GATHER_CHECK], 2, timeout=120):
        assert rc == 0 and out.startswith('ok'), err[-3000:]
