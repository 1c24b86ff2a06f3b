# nanomup: two commands do everything on a fresh machine.
#   make demo   venv + deps + Tiny Shakespeare + a real muP AdamW run on the CPU (a few minutes)
#   make test   venv + deps + pytest
#   make reproduce-laptop   every paper claim at laptop scale, one after the other (15-60 min each on 2 cores);
#               results/laptop/<claim>.md and results/README.md. Killed: the same command resumes.
#   make bench-install   the peer optimizer libraries of scripts/bench_optim.py (torch held at the venv's)
# make demo SHAKESPEARE=path/to/input.txt uses a local copy instead of downloading.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHAKESPEARE ?=
# torch: pip's default torch on Linux is the CUDA build (about 5.9 GB of wheels). Without a GPU (no answer from
# nvidia-smi) the CPU build comes from PyTorch's CPU index instead. A torch already in the venv is kept: .ci/run
# installs a local CPU wheel first and works offline.
NVIDIA_SMI ?= nvidia-smi
GPU := $(shell $(NVIDIA_SMI) -L 2>/dev/null | grep -m1 '^GPU')
TORCH_INDEX := $(if $(GPU)$(filter-out Linux,$(shell uname -s)),,--index-url https://download.pytorch.org/whl/cpu)

CLAIMS := gupta_width gupta_depth everett splus_width splus_steps batch horizon wd
JOBS ?= 2

.PHONY: install data demo test reproduce-laptop bench-install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/pip install $(TORCH_INDEX) 'torch>=2.6'
	$(BIN)/pip install -r requirements.txt
	@echo "venv size: $$(du -sh $(VENV) | cut -f1) ($(VENV))"
	touch $@

# mup goes in without its dependencies: its torchvision requirement would replace the CPU torch with a CUDA
# build (gigabytes); mup imports without torchvision (see requirements-test.txt)
$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install -r requirements-test.txt
	$(BIN)/pip install --no-deps mup==1.0.0
	touch $@

install: $(VENV)/.installed

data: install
	$(BIN)/python data/shakespeare_char/prepare.py $(if $(SHAKESPEARE),--input $(SHAKESPEARE))

demo: data
	$(BIN)/python train.py config/mup_adamw.py config/demo_cpu.py

reproduce-laptop: data
	for c in $(CLAIMS); do $(BIN)/python scripts/reproduce.py $$c --scale=laptop --jobs $(JOBS) || exit $$?; done

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests

# the peers of scripts/bench_optim.py; torch is pinned to the venv's own version through a constraints file made
# from `pip freeze` (a plain install of some of them would replace a CPU torch with the CUDA build)
bench-install: $(VENV)/.installed-test
	$(BIN)/pip freeze | grep -i '^torch==' > $(VENV)/constraints-torch.txt || \
		{ echo "error: no torch in $(VENV): run make install first" >&2; exit 2; }
	$(BIN)/pip install -r requirements-bench.txt --constraint $(VENV)/constraints-torch.txt

clean:
	rm -rf out/demo out/debug
