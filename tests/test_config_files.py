"""config/: every config file and every sweep point resolves, to the config train.py itself resolves;
configurator.train_defaults() is train.py's default config; a config file (or a sweep's `fixed`) never restates a
value that its stack already gives; include() stacks files relative to the including file.

    pytest tests/test_config_files.py
"""

import ast
import importlib.util
import runpy
import sys

import pytest

import dist
import optim
import parameterization as P
from configurator import ConfigError, configure, exec_config, train_defaults
from conftest import ROOT

spec = importlib.util.spec_from_file_location('sweep', ROOT / 'scripts' / 'sweep.py')
sweep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sweep)

CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'config').glob('*.py'))
SWEEPS = sorted(str(p.relative_to(ROOT)) for d in ('repro', 'repro/laptop', 'sweeps')
                for p in (ROOT / 'config' / d).glob('*.py'))
# a file meant to be stacked on the command line (its header says so): its stack starts with these files
COMMAND_LINE_STACK = {'config/demo_cpu.py': ['config/mup_adamw.py']}


@pytest.fixture(scope='module')
def defaults():
    return train_defaults()


class _Resolved(Exception):
    pass


def train_py_config(args, monkeypatch):
    """The config train.py resolves from these arguments: train.py runs as a script up to its first validation,
    P.check(config), which is replaced by one that records the config and stops the run there (nothing built or
    written). Should train.py stop calling P.check first, dist.setup (before any data or model) stops it instead."""
    seen = {}

    def stop(cfg):
        seen.update(cfg)
        raise _Resolved

    def too_far(*args):
        raise AssertionError("train.py reached dist.setup without calling P.check(config): update train_py_config")

    with monkeypatch.context() as m:
        m.setattr(P, 'check', stop)
        m.setattr(dist, 'setup', too_far)
        m.setattr(sys, 'argv', ['train.py', *args])
        m.chdir(ROOT)
        with pytest.raises(_Resolved):
            runpy.run_path(str(ROOT / 'train.py'), run_name='__main__')
    return seen


def resolve(defaults, args):
    cfg = dict(defaults)
    configure(cfg, args)
    return cfg


def test_train_defaults_are_what_train_py_resolves(defaults, monkeypatch):
    # a default changed or added in train.py (or an optimizer's hparams) reaches every script that uses the helper
    resolved = train_py_config([], monkeypatch)
    assert set(defaults) == set(resolved), set(defaults) ^ set(resolved)
    assert {k: v for k, v in defaults.items() if resolved[k] != v or type(resolved[k]) is not type(v)} == {}
    assert {'device', 'dtype', 'sophia_rho', 'splus_inverse_every'} <= set(defaults)


@pytest.mark.parametrize('args', [[c] for c in CONFIGS] + [[*s, c] for c, s in COMMAND_LINE_STACK.items()],
                         ids=lambda a: '+'.join(a))
def test_config_file_resolves_as_train_py_resolves_it(args, defaults, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = resolve(defaults, args)
    P.check(cfg)
    optim.get_optimizer_class(cfg['optimizer'])
    assert cfg == train_py_config(args, monkeypatch)


def test_parameterization_optimizer_files_run_what_they_are_named(defaults, monkeypatch):
    monkeypatch.chdir(ROOT)
    named = [(c, p, o) for c in CONFIGS for p in P.ABC for o in optim.REGISTRY if c == f'config/{p}_{o}.py']
    assert len(named) >= 31
    for path, p, o in named:
        cfg = resolve(defaults, [path])
        assert (cfg['parameterization'], cfg['optimizer']) == (p, o), path


def own_assignments(path):
    """[(line, key, value)] of the file's top-level `key = literal` lines, and the names it include()s."""
    tree = ast.parse((ROOT / path).read_text())
    assigns, includes = [], []
    for node in tree.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue  # an expression: compared only through the resolved configs above
            assigns += [(node.lineno, t.id, value) for t in node.targets]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, 'id', '') == 'include':
            includes.append(ast.literal_eval(node.value.args[0]))
    return assigns, includes


def machine_dependent_keys():
    """train.py's defaults written as expressions (device, dtype: what this machine has): a config file that sets
    one states a choice, not a repetition, even where it equals this machine's default."""
    keys = set()
    for node in ast.parse((ROOT / 'train.py').read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                ast.literal_eval(node.value)
            except ValueError:
                keys.add(node.targets[0].id)
    return keys


@pytest.mark.parametrize('path', CONFIGS)
def test_no_config_file_restates_its_stack(path, defaults, monkeypatch):
    # the stack: train.py's defaults, the files it is stacked on, then what it include()s; a line that sets a key to
    # the value the stack already has is repetition that would silently survive a change of the stack
    monkeypatch.chdir(ROOT)
    choices = machine_dependent_keys() & set(defaults)
    assert {'device', 'dtype'} <= choices
    stack = resolve(defaults, COMMAND_LINE_STACK.get(path, []))
    assigns, includes = own_assignments(path)
    for name in includes:
        exec_config(str((ROOT / path).parent / name), stack)
    restated = [f"{path}:{line}: {key} = {value!r}" for line, key, value in assigns
                if key in stack and stack[key] == value and key not in choices]
    assert not restated, f"already given by train.py's defaults or an included/stacked file: {restated}"


@pytest.mark.parametrize('path', SWEEPS)
def test_sweep_points_resolve_and_fixed_restates_nothing(path, defaults, monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = sweep.load_sweep(path)
    base = resolve(defaults, spec['base_config'])
    assert not {k: v for k, v in spec['fixed'].items() if k in base and base[k] == v}, 'fixed restates base_config'
    for name, point in sweep.expand(spec):
        argv = sweep.command(spec, name, point)
        cfg = resolve(defaults, argv[argv.index('train.py') + 1:])
        P.check(cfg)
        optim.get_optimizer_class(cfg['optimizer'])


def test_include_is_relative_to_the_including_file_and_overridable(tmp_path, defaults, monkeypatch):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'base.py').write_text("n_layer = 3\nn_embd = 96\n")
    (tmp_path / 'sub' / 'run.py').write_text("include('../base.py')\nn_embd = n_embd * 2  # sees the include\n")
    monkeypatch.chdir(ROOT)  # not the files' folder: the include path is relative to run.py
    cfg = resolve(defaults, [str(tmp_path / 'sub' / 'run.py'), '--n_layer=4'])
    assert (cfg['n_layer'], cfg['n_embd']) == (4, 192) and 'include' not in cfg
    (tmp_path / 'loop.py').write_text("include('loop.py')\n")
    (tmp_path / 'missing.py').write_text("include('nope.py')\n")
    with pytest.raises(ConfigError, match='include cycle'):
        resolve(defaults, [str(tmp_path / 'loop.py')])
    with pytest.raises(ConfigError, match=r"include\('nope.py'\): .*nope.py not found"):
        resolve(defaults, [str(tmp_path / 'missing.py')])


def test_gupta_depth_baseline_is_unscaled(defaults, monkeypatch):
    """The nanogpt rows are the unscaled baseline (no branch multiplier, no depth LR factor); the mup_spectral rows
    are depth-muP: branches x L^-1/2 and the block LRs x L^-1/2 (the engine's rule for Adam-like families)."""
    monkeypatch.chdir(ROOT)
    spec = sweep.load_sweep('config/repro/gupta_depth.py')
    seen = set()
    for name, point in sweep.expand(spec):
        argv = sweep.command(spec, name, point)
        cfg = resolve(defaults, argv[argv.index('train.py') + 1:])
        alpha = cfg['depth_alpha']
        assert alpha == {'nanogpt': 0.0, 'mup_spectral': 0.5}[cfg['parameterization']], name
        seen.add((cfg['parameterization'], alpha))
        if cfg['parameterization'] == 'mup_spectral' and cfg['optimizer'] == 'adamw':
            assert P.depth_exponent('adam', alpha) == -0.5 and cfg['base_depth'] is None
    assert seen == {('nanogpt', 0.0), ('mup_spectral', 0.5)}
