"""
Run a grid of train.py runs: one per GPU at a time (or --jobs N on the CPU), skipping finished runs, surviving a
killed sweep (re-run the same command to resume), recording crashes and going on.

    $ python scripts/sweep.py config/sweeps/debug_cpu_width.py --dry-run   # the commands, what would be skipped
    $ python scripts/sweep.py config/sweeps/debug_cpu_width.py --jobs 2    # CPU: two runs at a time
    $ python scripts/sweep.py config/sweeps/my_sweep.py --gpus 0,1,2,3     # one run per GPU
    $ python scripts/tables.py out/sweeps/debug_cpu_width                  # LR / width tables, fits, plots

A sweep file is a Python file of assignments (like a config file):

    base_config = 'config/debug_cpu.py'             # a config path, or a list of them (stacked left to right)
    sweep_dir = 'out/sweeps/debug_cpu_width'        # every run writes <sweep_dir>/<run_name>/
    grid = dict(n_embd=[32, 64], learning_rate=[3e-3, 1e-2, 3e-2], seed=[1, 2])  # cartesian product
    fixed = dict(max_iters=100)                     # optional: the same overrides for every point
    points = [dict(n_embd=128, learning_rate=1e-2)]  # optional: more points (merged over `fixed`), or instead of grid
    launcher = 'python'                             # optional: 'python' | 'torchrun' (then nproc_per_node = N)
    estimate = '2 min on one H100'                  # optional: printed at the start

Relative paths are relative to the repo root: train.py runs there. Keys of grid / fixed / points are train.py's
config keys or an optimizer's own hyperparameters (configurator.train_defaults()); an unknown key fails the sweep
file with one line before anything runs. out_dir, run_name and init_from belong to the sweep.

Each point runs `python train.py <base_config> --key=value ... --out_dir=<sweep_dir> --run_name=<name>
--init_from=auto`, so a point killed mid-run resumes from its last checkpoint. The run name is built from the
point's own keys in a fixed order, e.g. mup_adamw_w256_d8_lr0.003_s1: parameterization and optimizer by value,
n_embd -> w, n_layer -> d, learning_rate -> lr, seed -> s, then other keys alphabetically as key-value; floats with
'%g' (what train.py's default run name uses). Every grid key names the run, even one with a single value, so
widening a list later keeps the names (and the finished runs) of the old points.

A point whose summary.json exists is skipped (a diverged run writes one too: it is done). A point that exits
non-zero is recorded in <sweep_dir>/sweep_status.jsonl with the tail of its stderr, and the sweep goes on; the
next invocation retries it. Every point's stdout/stderr go to <sweep_dir>/logs/<run_name>.{out,err}. The status
log holds one JSON object per event: start, done, failed, busy, interrupted. The sweep exits 1 if any point failed.

Ctrl-C / SIGTERM stops the sweep and its runs (SIGTERM to each run's process group, torchrun workers included;
SIGKILL after 10 s) and exits 130 / 143; the same command resumes. A sweep killed outright (SIGKILL, OOM killer)
takes its runs with it: each run gets SIGTERM from the kernel when the sweep dies (Linux PR_SET_PDEATHSIG). Runs on
the CPU at --jobs N > 1 get OMP_NUM_THREADS = cores / N unless it is set.

One sweep process per sweep_dir: it holds an exclusive flock on <sweep_dir>/.sweep.lock (the kernel releases it when
the process dies, so the lock of a killed sweep is free at once). A point whose run folder is locked by a live
train.py (<run dir>/.lock, held for the run's whole life) is not started: it is logged as busy and the sweep exits 1
(re-run it when that process ends).
"""

import argparse
import ast
import ctypes
import fcntl
import itertools
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # train.py's folder: runs start here, relative paths resolve here
sys.path.insert(0, str(ROOT))
import configurator  # noqa: E402
SWEEP_KEYS = {'base_config', 'sweep_dir', 'grid', 'fixed', 'points', 'launcher', 'nproc_per_node', 'estimate'}
OWNED = {'out_dir', 'run_name', 'init_from'}  # set by the sweep for every point
NAME_ORDER = ['parameterization', 'optimizer', 'n_embd', 'n_layer', 'learning_rate', 'seed']
NAME_PREFIX = {'parameterization': '', 'optimizer': '', 'n_embd': 'w', 'n_layer': 'd', 'learning_rate': 'lr',
               'seed': 's'}


class SweepError(Exception):
    pass


# -----------------------------------------------------------------------------
# the sweep file: load, check, expand into points

def load_sweep(path):
    """The sweep file's assignments as a dict with every optional field filled in; SweepError if malformed."""
    if not os.path.isfile(path):
        raise SweepError(f"sweep file {path} not found")
    scope = {}
    try:
        exec(compile(Path(path).read_text(), str(path), 'exec'), scope)
    except Exception as e:  # a syntax error or a bad expression in the file: one line, no traceback
        raise SweepError(f"{path}: {type(e).__name__}: {e}")
    spec = {k: v for k, v in scope.items()
            if not k.startswith('_') and not callable(v) and type(v).__name__ != 'module'}
    unknown = set(spec) - SWEEP_KEYS
    if unknown:
        raise SweepError(f"{path}: unknown sweep setting(s) {', '.join(sorted(unknown))}: a sweep file sets "
                         f"{', '.join(sorted(SWEEP_KEYS))}")
    spec.setdefault('grid', {})
    spec.setdefault('fixed', {})
    spec.setdefault('points', [])
    spec.setdefault('launcher', 'python')
    spec.setdefault('nproc_per_node', 1)
    spec.setdefault('estimate', '')
    if 'base_config' not in spec or 'sweep_dir' not in spec:
        raise SweepError(f"{path}: needs base_config (a config path or a list) and sweep_dir")
    if isinstance(spec['base_config'], str):
        spec['base_config'] = [spec['base_config']]
    for cfg in spec['base_config']:
        if not (ROOT / cfg).is_file():
            raise SweepError(f"{path}: base_config {cfg} not found (paths are relative to {ROOT})")
    if not isinstance(spec['grid'], dict) or not isinstance(spec['fixed'], dict) or \
            not all(isinstance(p, dict) for p in spec['points']):
        raise SweepError(f"{path}: grid and fixed are dicts (key -> list of values / value), points a list of dicts")
    for key, values in spec['grid'].items():
        if not isinstance(values, (list, tuple)) or not values:
            raise SweepError(f"{path}: grid['{key}'] must be a non-empty list of values")
    if not spec['grid'] and not spec['points']:
        raise SweepError(f"{path}: nothing to run: set grid and/or points")
    if spec['launcher'] not in ('python', 'torchrun'):
        raise SweepError(f"{path}: launcher must be 'python' or 'torchrun', not {spec['launcher']!r}")
    if not isinstance(spec['nproc_per_node'], int) or spec['nproc_per_node'] < 1:
        raise SweepError(f"{path}: nproc_per_node must be a positive int")
    return spec


def check_keys(spec, known):
    """SweepError naming the first key of grid / fixed / points that train.py would not accept."""
    import difflib
    used = set(spec['grid']) | set(spec['fixed']) | {k for p in spec['points'] for k in p}
    owned = used & OWNED
    if owned:
        raise SweepError(f"{', '.join(sorted(owned))}: set by the sweep (sweep_dir, the run name, 'auto'); "
                         f"remove from the sweep file")
    for key in sorted(used - set(known)):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise SweepError(f"unknown config key '{key}'{hint}: grid / fixed / points keys must be train.py config "
                         f"keys or optimizer hyperparameters")


def known_keys():
    """Every key train.py accepts, the optimizers' own included: configurator.train_defaults()."""
    try:
        return set(configurator.train_defaults())
    except Exception as e:  # torch or an optimizer file that does not import: one line, not a traceback
        raise SweepError(f"cannot read train.py's config keys (configurator.train_defaults(): {type(e).__name__}: {e})")


def format_value(v):
    """A value as it appears in a run name: floats with %g (stable, as train.py's default name), others str()."""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace(' ', '').replace('/', '-').replace("'", '')  # dicts, paths: folder-name safe


def run_name(point):
    """Deterministic, readable name of a point: the fixed-order keys first, then the rest alphabetically."""
    keys = [k for k in NAME_ORDER if k in point] + sorted(k for k in point if k not in NAME_ORDER)
    parts = []
    for k in keys:
        prefix = NAME_PREFIX[k] if k in NAME_PREFIX else f"{k}-"
        parts.append(prefix + format_value(point[k]))
    return '_'.join(parts)


def expand(spec):
    """[(run_name, point)]: the grid's cartesian product, then the extra points; duplicates dropped. A point is
    the dict of overrides that names it (fixed keys are added to the command, not the name)."""
    out = {}
    keys = list(spec['grid'])
    combos = itertools.product(*(spec['grid'][k] for k in keys)) if keys else []
    for point in [dict(zip(keys, values)) for values in combos] + [dict(p) for p in spec['points']]:
        name = run_name(point)
        if name in out and out[name] != point:
            raise SweepError(f"two different points get the run name {name}: {out[name]} and {point} "
                             f"(values equal to 6 significant digits?)")
        out[name] = point
    return list(out.items())


def cli_value(v):
    """--key=VALUE text that configurator.py's literal_eval reads back as v."""
    if isinstance(v, str):
        try:
            ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v  # a bare word: read back as the same string (--optimizer=adamw)
    return repr(v)


def command(spec, name, point):
    """The argv that runs one point, from the repo root."""
    sweep_dir = str(ROOT / spec['sweep_dir'])
    overrides = dict(spec['fixed'], **point)
    launcher = [sys.executable]
    if spec['launcher'] == 'torchrun':
        launcher += ['-m', 'torch.distributed.run', '--standalone', f"--nproc_per_node={spec['nproc_per_node']}"]
    return launcher + ['train.py', *spec['base_config'], *[f"--{k}={cli_value(v)}" for k, v in overrides.items()],
                       f"--out_dir={sweep_dir}", f"--run_name={name}", '--init_from=auto']


def is_done(sweep_dir, name):
    return (Path(sweep_dir) / name / 'summary.json').exists()


# -----------------------------------------------------------------------------
# running: slots (GPU groups or CPU jobs), children in their own process groups, a status log

def visible_gpus(arg):
    """GPU ids to hand out: --gpus, else CUDA_VISIBLE_DEVICES, else torch.cuda.device_count()."""
    if arg is not None:
        return [g.strip() for g in arg.split(',') if g.strip()]
    env = os.environ.get('CUDA_VISIBLE_DEVICES')
    if env is not None:
        return [g.strip() for g in env.split(',') if g.strip() and g.strip() != '-1']
    try:
        import torch
        return [str(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        return []


def slots(gpus, nproc_per_node, jobs):
    """One entry per concurrent run: its CUDA_VISIBLE_DEVICES (a group of nproc_per_node GPUs), or None on the
    CPU. jobs = runs at a time per GPU group, or in all on the CPU."""
    if not gpus:
        return [None] * jobs
    groups = [','.join(gpus[i:i + nproc_per_node]) for i in range(0, len(gpus) - nproc_per_node + 1, nproc_per_node)]
    if not groups:
        raise SweepError(f"nproc_per_node={nproc_per_node} but only {len(gpus)} GPU(s) visible: {','.join(gpus)}")
    return [g for g in groups for _ in range(jobs)]


def fmt_time(s):
    if s is None or not math.isfinite(s):
        return '?'
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def eta_seconds(durations, remaining, n_slots):
    """Remaining runs x the mean time of the runs finished so far, spread over the slots; None before the first."""
    if not durations:
        return None
    return sum(durations) / len(durations) * math.ceil(remaining / max(1, n_slots)) if remaining else 0.0


PR_SET_PDEATHSIG = 1  # linux/prctl.h
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith('linux') else None


def die_with(parent_pid):
    """preexec_fn of a child (it runs in the child, between fork and exec): ask the kernel for SIGTERM when the
    sweep dies, however it dies (the setting survives exec); if the sweep is already gone, do not start."""
    def preexec():
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:
            os._exit(1)
    return preexec


def run_holder(sweep_dir, name):
    """The pid (text) of a live process holding the point's run lock (train.py holds <run dir>/.lock while it
    runs), else None."""
    try:
        fd = os.open(Path(sweep_dir) / name / '.lock', os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a probe: closing the file releases it
        return None
    except BlockingIOError:
        return os.pread(fd, 32, 0).decode(errors='replace').strip() or '?'
    finally:
        os.close(fd)


def tail(path, offset, max_lines=20, max_chars=2000):
    """The last lines a child wrote to its stderr file since `offset`."""
    with open(path, 'rb') as f:
        f.seek(offset)
        text = f.read().decode(errors='replace')
    return '\n'.join(text.strip().splitlines()[-max_lines:])[-max_chars:]


class Sweep:
    """The running state: pending points, running children (one per slot), the status log."""

    def __init__(self, spec, todo, slot_list, total, skipped):
        self.spec, self.pending, self.free = spec, list(todo), list(slot_list)
        self.sweep_dir = ROOT / spec['sweep_dir']
        self.running = {}  # pid -> dict(proc, name, slot, t0, err_path, err_offset, files)
        self.total, self.finished, self.failed, self.busy = total, skipped, 0, 0
        self.durations, self.t_start, self.n_slots = [], time.time(), len(slot_list)
        (self.sweep_dir / 'logs').mkdir(parents=True, exist_ok=True)
        self.status = open(self.sweep_dir / 'sweep_status.jsonl', 'a')

    def log(self, event, name, **kw):
        self.status.write(json.dumps(dict(time=time.strftime('%Y-%m-%dT%H:%M:%S'), event=event, run_name=name, **kw))
                          + '\n')
        self.status.flush()

    def launch(self, name, point):
        slot = self.free.pop(0)
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        if slot is not None:
            env['CUDA_VISIBLE_DEVICES'] = slot
        elif self.n_slots > 1 and 'OMP_NUM_THREADS' not in os.environ:
            # N runs sharing the CPU: each torch spinning up all cores would oversubscribe them many times over
            env['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // self.n_slots))
        cmd = command(self.spec, name, point)
        out_path, err_path = self.sweep_dir / 'logs' / f'{name}.out', self.sweep_dir / 'logs' / f'{name}.err'
        out, err = open(out_path, 'ab'), open(err_path, 'ab')
        offset = err.tell()
        # its own session: a Ctrl-C in the terminal reaches only the sweep, which then stops every child cleanly
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True,
                                preexec_fn=die_with(os.getpid()))
        self.running[proc.pid] = dict(proc=proc, name=name, slot=slot, t0=time.time(), err_path=err_path,
                                      err_offset=offset, files=(out, err))
        self.log('start', name, pid=proc.pid, gpus=slot, cmd=shlex.join(cmd))

    def reap(self):
        """Collect finished children; log and print each. Returns how many finished."""
        n = 0
        for pid, r in list(self.running.items()):
            rc = r['proc'].poll()
            if rc is None:
                continue
            n += 1
            del self.running[pid]
            self.free.append(r['slot'])
            for f in r['files']:
                f.close()
            dt = time.time() - r['t0']
            summary = self.sweep_dir / r['name'] / 'summary.json'
            if rc == 0 and summary.exists():
                s = json.loads(summary.read_text())
                self.finished += 1
                self.durations.append(dt)
                self.log('done', r['name'], returncode=0, seconds=round(dt, 2), diverged=s.get('diverged'))
                what = 'diverged' if s.get('diverged') else f"best val {s.get('best_val_loss') or float('nan'):.4f}"
            else:
                self.failed += 1
                self.durations.append(dt)
                stderr_tail = tail(r['err_path'], r['err_offset'])
                self.log('failed', r['name'], returncode=rc, seconds=round(dt, 2), stderr_tail=stderr_tail)
                last = stderr_tail.splitlines()[-1] if stderr_tail else ''
                what = f"FAILED (exit {rc}): {last}"
            self.progress(f"{r['name']}: {what} in {dt:.1f}s")
        return n

    def skip_busy(self, name, pid):
        """A point whose run folder a live process holds (e.g. a run of a sweep that was killed before it could
        stop it): starting it again would run it twice at once."""
        self.busy += 1
        self.log('busy', name, pid=pid)
        self.progress(f"{name}: not started, still running in pid {pid} (its run folder is locked); re-run the "
                      f"sweep when that process has ended")

    def progress(self, msg):
        remaining = self.total - self.finished - self.failed - self.busy
        elapsed = time.time() - self.t_start
        print(f"[{self.finished + self.failed + self.busy}/{self.total}] {self.failed} failed | "
              f"elapsed {fmt_time(elapsed)} | "
              f"ETA {fmt_time(eta_seconds(self.durations, remaining, self.n_slots))} | {msg}", flush=True)

    def stop_children(self, why):
        """SIGTERM every child's process group (torchrun's workers too), SIGKILL what is left after 10 s."""
        for r in self.running.values():
            try:
                os.killpg(r['proc'].pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        for r in self.running.values():
            try:
                r['proc'].wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(r['proc'].pid, signal.SIGKILL)
                r['proc'].wait()
            for f in r['files']:
                f.close()
            self.log('interrupted', r['name'], signal=why, seconds=round(time.time() - r['t0'], 2))
        self.running.clear()


def take_lock(sweep_dir):
    """One sweep process per sweep_dir (two would run the same points): an exclusive flock on .sweep.lock, which
    the kernel drops when the holder dies, however it dies, so a killed sweep's lock is free (no pid to check, which
    a reused pid could fool). Returns the open descriptor for release_lock; SweepError if a live sweep holds it."""
    path = Path(sweep_dir) / '.sweep.lock'
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode(errors='replace').strip() or '?'
            os.close(fd)
            raise SweepError(f"another sweep (pid {pid}) is running in {sweep_dir}: stop it first or wait")
        try:  # the previous owner may have unlinked the file between our open and our lock: lock the one there now
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)  # who holds it, for the message above
    return fd


def release_lock(sweep_dir, fd):
    """Remove .sweep.lock while still holding it, then let go (a sweep waiting on the old file retries)."""
    (Path(sweep_dir) / '.sweep.lock').unlink(missing_ok=True)
    os.close(fd)


def main(argv):
    ap = argparse.ArgumentParser(description="Run a grid of train.py runs (see the module docstring).")
    ap.add_argument('sweep_file')
    ap.add_argument('--dry-run', action='store_true', help="print the commands and how many would be skipped")
    ap.add_argument('--gpus', default=None, help="GPU ids to use, e.g. 0,1,2,3 (default: all visible)")
    ap.add_argument('--jobs', type=int, default=1, help="runs at a time on the CPU (per GPU group on GPUs)")
    args = ap.parse_args(argv)
    try:
        spec = load_sweep(args.sweep_file)
        check_keys(spec, known_keys())
        points = expand(spec)
    except SweepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sweep_dir = ROOT / spec['sweep_dir']
    todo = [(n, p) for n, p in points if not is_done(sweep_dir, n)]
    if spec['estimate']:
        print(f"estimate: {spec['estimate']}")
    if args.dry_run:
        for name, point in points:
            print(f"[skip, summary.json exists] {name}" if is_done(sweep_dir, name) else
                  shlex.join(command(spec, name, point)))
        print(f"{len(points)} points: {len(todo)} to run, {len(points) - len(todo)} would be skipped "
              f"(summary.json exists) in {sweep_dir}")
        return 0
    try:
        slot_list = slots(visible_gpus(args.gpus), spec['nproc_per_node'], max(1, args.jobs))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        lock = take_lock(sweep_dir)
    except SweepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    (sweep_dir / 'sweep_file.py').write_text(Path(args.sweep_file).read_text())  # what made these runs
    where = f"GPU groups {sorted(set(slot_list))}" if slot_list[0] is not None else 'the CPU'
    print(f"sweep: {len(points)} points, {len(points) - len(todo)} already done, {len(todo)} to run, "
          f"{len(slot_list)} at a time on {where}; runs in {sweep_dir}, logs in {sweep_dir / 'logs'}", flush=True)

    stop = []  # the signal that asked us to stop; checked by the loop (a flag, so no child is half-launched)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.append(signal.Signals(signum).name))
    sweep = Sweep(spec, todo, slot_list, len(points), len(points) - len(todo))
    try:
        while (sweep.pending or sweep.running) and not stop:
            while sweep.pending and sweep.free and not stop:
                name, point = sweep.pending.pop(0)
                if is_done(sweep_dir, name):
                    continue
                holder = run_holder(sweep_dir, name)
                if holder:
                    sweep.skip_busy(name, holder)
                else:
                    sweep.launch(name, point)
            if not sweep.reap():
                time.sleep(0.2)
    finally:
        if sweep.running:
            sweep.stop_children(stop[0] if stop else 'exception')
        sweep.status.close()
        release_lock(sweep_dir, lock)
    if stop:
        print(f"sweep stopped by {stop[0]}: {sweep.finished}/{sweep.total} done; run the same command to resume",
              flush=True)
        return 130 if stop[0] == 'SIGINT' else 143
    print(f"sweep finished: {sweep.finished}/{sweep.total} done, {sweep.failed} failed"
          + (f", {sweep.busy} still running elsewhere" if sweep.busy else '')
          + f" (see {sweep_dir / 'sweep_status.jsonl'}) in {fmt_time(time.time() - sweep.t_start)}", flush=True)
    return 1 if sweep.failed or sweep.busy else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
