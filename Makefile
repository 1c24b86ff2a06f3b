# nanomup: two commands do everything on a fresh machine.
#   make demo   venv + deps + Tiny Shakespeare + a real muP AdamW run on the CPU (a few minutes)
#   make test   venv + deps + pytest
# make demo SHAKESPEARE=path/to/input.txt uses a local copy instead of downloading.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHAKESPEARE ?=

.PHONY: install data demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
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

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf out/demo out/debug
