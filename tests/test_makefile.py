"""Makefile: `make install` picks the CPU torch build where there is no GPU, keeps a torch that is already in the
venv, and prints the venv's size. Runs the real recipe on a stand-in venv (bin/python, bin/pip are scripts that log
their arguments), so nothing is installed and nothing is downloaded.  pytest tests/test_makefile.py"""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

CPU_INDEX = '--index-url https://download.pytorch.org/whl/cpu'


def fake_venv(tmp_path, has_torch):
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    log = tmp_path / 'pip.log'
    # python -c 'import torch' answers as the venv would; pip logs its arguments
    (venv / 'bin' / 'python').write_text(f"#!/bin/sh\n[ \"$2\" = 'import torch' ] && exit {0 if has_torch else 1}\n"
                                         f"exec {sys.executable} \"$@\"\n")
    (venv / 'bin' / 'pip').write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n")
    for f in ('python', 'pip'):
        (venv / 'bin' / f).chmod(0o755)
    return venv, log


def nvidia_smi(tmp_path, gpu):
    smi = tmp_path / 'nvidia-smi'
    smi.write_text('#!/bin/sh\necho "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)"\n' if gpu else '#!/bin/sh\nexit 9\n')
    smi.chmod(0o755)
    return smi


@pytest.mark.skipif(shutil.which('make') is None or not sys.platform.startswith('linux'), reason='needs make, Linux')
@pytest.mark.parametrize('gpu,has_torch,torch_line', [
    (False, False, f"{CPU_INDEX} torch>=2.6"),  # a CPU-only Linux box: the CPU wheel, not the 5.9 GB CUDA build
    (True, False, "torch>=2.6"),  # a GPU: pip's default (CUDA) build
    (False, True, None),  # torch already there (.ci/run's local wheel): kept, nothing downloaded
])
def test_install_picks_the_torch_build_and_prints_the_venv_size(tmp_path, gpu, has_torch, torch_line):
    venv, log = fake_venv(tmp_path, has_torch)
    r = subprocess.run(['make', '-C', str(ROOT), f'VENV={venv}', f'NVIDIA_SMI={nvidia_smi(tmp_path, gpu)}',
                        'install'], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    calls = log.read_text().splitlines()
    assert calls == ([f"install {torch_line}"] if torch_line else []) + ['install -r requirements.txt'], calls
    assert 'venv size: ' in r.stdout and str(venv) in r.stdout.splitlines()[-2], r.stdout


@pytest.mark.skipif(shutil.which('make') is None or not sys.platform.startswith('linux'), reason='needs make, Linux')
@pytest.mark.parametrize('freeze', ['torch==2.13.0+cpu', ''])
def test_bench_install_holds_torch_at_the_venvs_version(tmp_path, freeze):
    venv, log = fake_venv(tmp_path, True)
    for stamp in ('.installed', '.installed-test'):  # the venv and the test packages are there already
        (venv / stamp).touch()
    # pip freeze answers with the venv's torch (or none); every other pip call is logged
    (venv / 'bin' / 'pip').write_text(f"#!/bin/sh\nif [ \"$1\" = freeze ]; then printf 'numpy==2.4.6\\n{freeze}\\n'; "
                                      f"exit 0; fi\necho \"$@\" >> {log}\n")
    r = subprocess.run(['make', '-C', str(ROOT), f'VENV={venv}', 'bench-install'], capture_output=True, text=True,
                       timeout=60)
    constraints = venv / 'constraints-torch.txt'
    if not freeze:  # nothing to pin: refused before pip installs anything
        assert r.returncode != 0 and 'error: no torch' in r.stderr and not log.exists(), r.stdout + r.stderr
        return
    assert r.returncode == 0, r.stdout + r.stderr
    assert constraints.read_text() == 'torch==2.13.0+cpu\n'
    assert log.read_text().splitlines() == [f'install -r requirements-bench.txt --constraint {constraints}']
