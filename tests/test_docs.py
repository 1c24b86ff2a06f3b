"""The documentation cannot rot silently: every relative link in README.md and docs/*.md points to a file (and a
heading) that exists, and every `python train.py` / `python scripts/<x>.py` command in a fenced shell block of
docs/*.md names an existing script and config files, and only keys and flags that exist:

- train.py: config files and --key=value go through configurator.configure against train.py's defaults (read
  with ast, so no torch and no run) plus every optimizer's `hparams`: unknown keys and wrong types fail;
- scripts configured like train.py (they call configurator's configure): --key=value must be one of their own
  globals or default dicts, or of the defaults they import (train.py's, parameterization.DEFAULTS, optimizers');
- argparse scripts: every --flag must appear quoted in the script's source, and the keys of --set k=v,... must be
  train.py config keys.

    pytest tests/test_docs.py
"""

import ast
import re
import shlex
from functools import lru_cache
from pathlib import Path

import pytest

import configurator
import optim
from conftest import ROOT

DOCS = sorted((ROOT / 'docs').glob('*.md'))
PAGES = [ROOT / 'README.md'] + DOCS
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^\s*```(\S*)')
SHELL = {'', 'sh', 'bash', 'shell', 'console'}  # fenced blocks whose lines are commands (not 'text', 'python')
COMMAND = re.compile(r'\b(python[0-9.]*|torchrun)\b')
REPO_PATH = re.compile(r'(?<![\w/.])((?:config|scripts|data)/[\w/.-]+\.(?:py|sh))')
STOP = {'|', '||', '&&', ';', '>', '>>', '2>', '&'}


# -----------------------------------------------------------------------------
# reading Markdown

def blocks(text):
    """[(lang, first line number, [lines])] of the fenced code blocks, and the text outside them."""
    out, prose, current = [], [], None
    for i, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m and current is None:
            current = (m.group(1).lower(), i + 1, [])
        elif m:
            out.append(current)
            current = None
        elif current is not None:
            current[2].append(line)
        else:
            prose.append((i, line))
    return out, prose


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(path):
    return {slug(line.lstrip('#')) for _, line in blocks(path.read_text())[1] if line.startswith('#')}


def link_errors(path, root=ROOT):
    """'file:line: target' for every relative link outside code blocks whose file (inside root) or heading is
    missing."""
    errors = []
    for i, line in blocks(path.read_text())[1]:
        for target in LINK.findall(line):
            if re.match(r'[a-z]+:', target):  # https:, mailto:
                continue
            file, _, anchor = target.partition('#')
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists() or root not in dest.parents:
                errors.append(f"{path.name}:{i}: {target} (no such file in the repository)")
            elif anchor and dest.suffix == '.md' and anchor not in anchors(dest):
                errors.append(f"{path.name}:{i}: {target} (no heading '#{anchor}' in {dest.name})")
    return errors


# -----------------------------------------------------------------------------
# what exists: train.py's keys, the optimizers' keys, each script's flags

def module_defaults(path, stop=None):
    """{name: value} of a file's module-level assignments (up to `stop`); values that are not literals -> None
    (a None default accepts any value in configurator, so only literal defaults get their type checked)."""
    out = {}
    for node in ast.parse(Path(path).read_text()).body:
        if not isinstance(node, ast.Assign):
            continue
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if stop in names:
            break
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            value = None
        out.update({n: value for n in names if not n.startswith('_')})
    return out


def dict_literals(path):
    """{name: {key: value}} of module-level `NAME = {...}` / `NAME = dict(...)` assignments (non-literal -> None)."""
    out = {}
    for node in ast.parse(Path(path).read_text()).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        v = node.value
        if isinstance(v, ast.Dict):
            items = [(k.value, val) for k, val in zip(v.keys, v.values) if isinstance(k, ast.Constant)]
        elif isinstance(v, ast.Call) and getattr(v.func, 'id', '') == 'dict':
            items = [(kw.arg, kw.value) for kw in v.keywords if kw.arg]
        else:
            continue
        d = {}
        for key, val in items:
            try:
                d[key] = ast.literal_eval(val)
            except ValueError:
                d[key] = None
        out[node.targets[0].id] = d
    return out


@lru_cache(maxsize=None)
def train_defaults():
    """train.py's keys and the optimizers' own, from the one source the scripts use too."""
    return configurator.train_defaults()


def script_keys(path):
    """The --key=value keys a configurator-style script accepts: its own globals and default dicts, plus the
    defaults it pulls in from train.py, parameterization.py and the optimizers."""
    src = path.read_text()
    keys = set(module_defaults(path))
    for d in dict_literals(path).values():
        keys |= set(d)
    if "'train.py'" in src or 'train_defaults' in src:
        keys |= set(train_defaults())
    if 'P.DEFAULTS' in src:
        keys |= set(dict_literals(ROOT / 'parameterization.py')['DEFAULTS'])
    if 'hparam_defaults' in src:
        keys |= set(optim.hparam_defaults())
    return keys


# -----------------------------------------------------------------------------
# checking one command

def commands(text):
    """(line number, command) of every shell line in a fenced block that runs python or torchrun; lines ending
    in a backslash are joined with the next."""
    out = []
    for lang, start, lines in blocks(text)[0]:
        if lang not in SHELL:
            continue
        joined, first = '', None
        for i, line in enumerate(lines, start):
            first = first or i
            if line.rstrip().endswith('\\'):
                joined += line.rstrip()[:-1] + ' '
                continue
            joined += line
            if COMMAND.search(joined):
                out.append((first, joined))
            joined, first = '', None
    return out


def command_errors(cmd):
    """What is wrong with one shell command line: a missing script or config file, an unknown key or flag."""
    try:
        tokens = shlex.split(cmd, comments=True)
    except ValueError as e:
        return [f"cannot parse: {e}"]
    errors = []
    for i, tok in enumerate(tokens):
        if not COMMAND.fullmatch(tok.rsplit('/', 1)[-1]):  # python, .venv/bin/python, torchrun
            continue
        j = next((k for k in range(i + 1, len(tokens)) if not tokens[k].startswith('-')), None)
        if j is None or not tokens[j].endswith('.py'):
            continue
        script, args = ROOT / tokens[j], []
        for a in tokens[j + 1:]:
            if a in STOP:
                break
            args.append(a)
        if not script.is_file():
            errors.append(f"{tokens[j]}: no such script")
        elif tokens[j] == 'train.py':
            errors += train_errors(args)
        else:
            errors += script_errors(script, args)
    return errors


def train_errors(args):
    g = train_defaults()
    try:
        configurator.configure(g, args)  # config files are read relative to the repository root
    except configurator.ConfigError as e:
        return [f"train.py: {e}"]
    return []


def script_errors(script, args):
    src, name, errors = script.read_text(), script.relative_to(ROOT), []
    configured = 'configure(' in src and ('import configurator' in src or 'from configurator import' in src)
    keys = script_keys(script) if configured else set()
    for k, a in enumerate(args):
        if not a.startswith('--'):
            if a.startswith('config/') and not (ROOT / a).is_file():
                errors.append(f"{name}: {a}: no such file")
            continue
        flag = a.split('=', 1)[0]
        if configured:
            if flag[2:] not in keys:
                errors.append(f"{name}: unknown key {flag}")
        elif f"'{flag}'" not in src and f'"{flag}"' not in src:
            errors.append(f"{name}: unknown flag {flag}")
        if flag == '--set':  # k=v,k=v overrides of train.py keys (reproduce.py, optimizers_smoke.py)
            value = a.split('=', 1)[1] if '=' in a else (args[k + 1] if k + 1 < len(args) else '')
            bad = [kv.split('=')[0] for kv in value.split(',') if kv and kv.split('=')[0] not in train_defaults()]
            errors += [f"{name}: --set {key}: not a train.py config key" for key in bad]
    return errors


def path_errors(text):
    """Repository paths (config/..., scripts/..., data/... ending in .py or .sh) in shell blocks that do not exist."""
    return [f"line {i}: {m} does not exist" for lang, start, lines in blocks(text)[0] if lang in SHELL
            for i, line in enumerate(lines, start) for m in REPO_PATH.findall(line.split(' #')[0])
            if not (ROOT / m).is_file()]


# -----------------------------------------------------------------------------
# the tests

def test_pages_exist_and_the_readers_are_not_empty():
    assert len(DOCS) >= 7, [p.name for p in DOCS]
    assert len(train_defaults()) > 80 and 'n_embd' in train_defaults() and 'sophia_rho' in train_defaults()
    assert sum(len(commands(p.read_text())) for p in DOCS) > 30  # the docs' commands are found


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page):
    errors = link_errors(page)
    assert not errors, '\n'.join(errors)


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_name_existing_scripts_keys_and_flags(page, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    errors = [f"{page.name}:{line}: {e}" for line, cmd in commands(page.read_text()) for e in command_errors(cmd)]
    capsys.readouterr()  # configurator prints every override
    assert not errors, '\n'.join(errors)


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_in_shell_blocks_exist(page):
    """Config files and scripts named anywhere in a shell block (CONFIG=config/x.py for the cluster launchers too)."""
    errors = path_errors(page.read_text())
    assert not errors, '\n'.join(f"{page.name}: {e}" for e in errors)


def test_the_checks_catch_what_they_should(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    good = ['python train.py config/debug_cpu.py --n_embd=128 --sophia_rho=0.05 --base_width=None',
            'torchrun --standalone --nproc_per_node=2 train.py config/mup_adamw.py --parallel=fsdp',
            'python scripts/sweep.py config/sweeps/debug_cpu_width.py --jobs 2   # comment --not-a-flag',
            'python scripts/bench_train.py --preset=gpt2 --optimizers=all --n_layer=4',
            'python scripts/reproduce.py gupta_width --scale=smoke --set n_layer=2,eval_iters=8 --jobs 2']
    for cmd in good:
        assert command_errors(cmd) == [], cmd
    bad = {'python train.py config/debug_cpu.py --n_embed=128': "unknown config key 'n_embed'",
           'python train.py --n_layer=deep': 'n_layer expects int',
           'python train.py config/nope.py': 'config file config/nope.py not found',
           'python scripts/nope.py': 'no such script',
           'python scripts/sweep.py config/sweeps/debug_cpu_width.py --workers 2': 'unknown flag --workers',
           'python scripts/sweep.py config/sweeps/missing.py': 'no such file',
           'python scripts/bench_train.py --preset=gpt2 --optimizer_list=all': 'unknown key --optimizer_list',
           'python scripts/reproduce.py everett --set n_layers=2': 'n_layers: not a train.py config key'}
    for cmd, msg in bad.items():
        errors = command_errors(cmd)
        assert errors and msg in errors[0], (cmd, errors)
    page = tmp_path / 'page.md'
    page.write_text("[ok](page.md) [anchor](#a-heading)\n\n## A heading\n\n[gone](nowhere.md) [bad](#nope)\n"
                    "```sh\n[in code](ignored.md)\npython train.py \\\n    --n_layer=2\n```\n")
    assert [e.split(': ', 1)[1] for e in link_errors(page, root=tmp_path)] == ['nowhere.md (no such file in the repository)',
                                                               "#nope (no heading '#nope' in page.md)"]
    assert commands(page.read_text()) == [(8, 'python train.py      --n_layer=2')]
    assert path_errors("```sh\nqsub -v CONFIG=config/nope.py scripts/launch/slurm.sh  # config/x.py\n```\n") == \
        ['line 2: config/nope.py does not exist']


def exponent_table(alignment='full'):
    """docs/parameterization.md's LR-exponent table, computed from parameterization.lr_exponents."""
    import parameterization as P
    from fractions import Fraction
    signs = {Fraction(1, 2): '½', Fraction(-1, 2): '−½'}
    fmt = lambda x: signs.get(Fraction(x), str(Fraction(x)).replace('-', '−'))  # noqa: E731
    lines = ['| parameterization | family | embedding | hidden | readout | vector |', '|---|---|---|---|---|---|']
    for p in ('sp', 'ntk', 'mup', 'mfp', 'mup_spectral'):
        for fam in P.FAMILIES:
            c = P.lr_exponents(P.ABC[p], fam, alignment)
            lines.append(f"| `{p}` | {fam} | " + ' | '.join(fmt(c[r]) for r in ('embedding', 'hidden', 'readout', 'vector')) + ' |')
    return '\n'.join(lines)


def test_parameterization_doc_table_is_the_codes():
    text = (ROOT / 'docs' / 'parameterization.md').read_text()
    block = text.split('<!-- exponent-table:full -->\n')[1].split('\n<!-- /exponent-table -->')[0]
    assert block == exponent_table('full')
