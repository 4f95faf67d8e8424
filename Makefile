# Two entry points on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out

.PHONY: demo test fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the base install: everything an animatic needs, no torch
$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# sora's own modules compiled to bytecode, as a wheel's install does (an editable install does not, and
# where PYTHONDONTWRITEBYTECODE is set, as in many containers, every run would compile them again: 0.1-0.15 s
# of start-up a command); files already compiled and unchanged are skipped
BYTECODE = $(BIN)/python -m compileall -q sora_cli

# everything, for the tests: torch 2.13.0 first (the CPU build on disk; any other
# torch would pull gigabytes of CUDA packages), then diffusers, Ray and the test tools
$(VENV)/.all: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all]"
	touch $@ $(VENV)/.base

demo: $(VENV)/.base
	$(BYTECODE)
	$(BIN)/sora validate storyboards/*.yaml
	$(BIN)/sora render storyboards/polar.yaml -o $(OUT)/polar.mp4
	$(BIN)/sora board storyboards/polar.yaml -o $(OUT)/polar-board.png
	@echo "the film, its report, subtitles and storyboard sheet are in $(OUT)/"

test: $(VENV)/.all
	$(BYTECODE)
	$(BIN)/ruff check sora_cli tests bench storyboards
	$(BIN)/pytest -n 2

# 10,000 generated storyboards (valid, mutated, hostile) through validate and plan:
# prints the exit codes and the number of tracebacks (must be 0); CASES=... SEED=... to change
CASES ?= 10000
SEED  ?= 0
fuzz: $(VENV)/.all
	$(BIN)/python -m tests.fuzzing --cases $(CASES) --seed $(SEED)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
