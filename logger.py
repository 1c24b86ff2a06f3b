"""
Run logging besides metrics.jsonl: Weights & Biases and TensorBoard, both optional, fed the same rows.

train.py writes every metrics row (kind 'train', 'eval' or 'alignment', with its 'iter') at one call site; the
RunLogger made here receives each row there too, on rank 0 only. Every number of a row becomes one scalar named
'<kind>/<key>' at step 'iter' (train/loss, eval/val_loss, alignment/A/lm_head, ...), so the curves in either tool
are the numbers of metrics.jsonl.

    wandb_log=True      wandb.init(project=wandb_project, name=wandb_run_name or run_name, id=<run dir>/wandb_id,
                        resume='allow', config=<the run config>): a resumed run continues the same wandb run
    tensorboard=True    event files in <run dir>/tb/; a resume writes a new event file that purges the steps after
                        the checkpoint (SummaryWriter's purge_step), as metrics.jsonl drops its rows after it

Neither package is a dependency of the repository: check() imports what the config asks for before any work and
returns one line saying what to install.
"""

import glob
import os
import secrets

TB_DIR = 'tb'  # <run dir>/tb/: TensorBoard's event files
WANDB_ID_FILE = 'wandb_id'  # <run dir>/wandb_id: the wandb run this run folder logs to (kept over resumes)


def check(cfg):
    """None, or one line naming the package a logging key needs and how to install it (nothing is created)."""
    if cfg.get('tensorboard'):
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401  (needs the tensorboard package)
        except ImportError:
            return "tensorboard=True needs the tensorboard package: pip install tensorboard"
    if cfg.get('wandb_log'):
        try:
            import wandb  # noqa: F401
        except ImportError:
            return "wandb_log=True needs the wandb package: pip install wandb"
    return None


def scalars(row):
    """{'<kind>/<key>': value} of every number in a metrics row but its iter (nan and inf included, bools not)."""
    kind = row.get('kind', 'train')
    return {f'{kind}/{k}': float(v) for k, v in row.items()
            if k not in ('iter', 'kind') and isinstance(v, (int, float)) and not isinstance(v, bool)}


class TensorBoardSink:
    def __init__(self, run_dir, start_iter, resume):
        from torch.utils.tensorboard import SummaryWriter
        log_dir = os.path.join(run_dir, TB_DIR)
        if not resume:  # a run started over: the event files of the run it replaces go, as its metrics.jsonl does
            for path in glob.glob(os.path.join(log_dir, 'events.out.tfevents.*')):
                os.remove(path)
        # resume: TensorBoard hides every earlier event at step >= purge_step (rows a killed run logged after
        # its checkpoint; the checkpoint's own iteration was logged before it was written)
        self.writer = SummaryWriter(log_dir, purge_step=start_iter + 1 if resume else None)

    def log(self, row):
        for tag, value in scalars(row).items():
            self.writer.add_scalar(tag, value, global_step=row['iter'])
        self.writer.flush()  # as metrics.jsonl: a killed run keeps every row it logged

    def close(self):
        self.writer.close()


class WandbSink:
    def __init__(self, run_dir, resume, project, name, config):
        import wandb
        id_path = os.path.join(run_dir, WANDB_ID_FILE)
        run_id = None
        if resume and os.path.exists(id_path):
            with open(id_path) as f:
                run_id = f.read().strip() or None
        if run_id is None:  # a new run, or one started over: a new wandb run
            run_id = secrets.token_hex(4)
            with open(id_path, 'w') as f:
                f.write(run_id + '\n')
        self.wandb = wandb
        # wandb keeps the last step it got: rows of a killed run after its checkpoint are logged again with equal
        # steps on resume, and wandb ignores those below its last step (their values are the same: resume is exact)
        self.run = wandb.init(project=project, name=name, id=run_id, resume='allow', config=config, dir=run_dir)

    def log(self, row):
        self.wandb.log(scalars(row), step=row['iter'])

    def close(self):
        self.wandb.finish()


class RunLogger:
    """The optional sinks of one run (possibly none): log(row) for every metrics row, close() at the end."""

    def __init__(self, sinks):
        self.sinks = sinks

    def log(self, row):
        for sink in self.sinks:
            sink.log(row)

    def close(self):
        for sink in self.sinks:
            sink.close()


def open_loggers(cfg, run_dir, start_iter=0, resume=False):
    """The RunLogger of a run (rank 0 only): TensorBoard and / or wandb as cfg's keys ask. start_iter: the
    checkpoint's iteration when resume."""
    sinks = []
    if cfg.get('tensorboard'):
        sinks.append(TensorBoardSink(run_dir, start_iter, resume))
    if cfg.get('wandb_log'):
        sinks.append(WandbSink(run_dir, resume, cfg.get('wandb_project', 'nanomup'),
                               cfg.get('wandb_run_name') or cfg['run_name'], cfg))
    return RunLogger(sinks)
