# Two entry points on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out

.PHONY: demo test lint clean

$(BIN)/sora: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,ray]"
	touch $@

demo: $(BIN)/sora
	$(BIN)/sora validate storyboards/*.yaml
	$(BIN)/sora render storyboards/polar.yaml -o $(OUT)/polar.mp4
	$(BIN)/sora board storyboards/polar.yaml -o $(OUT)/polar-board.png
	@echo "the film, its report, subtitles and storyboard sheet are in $(OUT)/"

test: $(BIN)/sora
	$(BIN)/ruff check sora_cli tests bench storyboards
	$(BIN)/pytest -n 2

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
