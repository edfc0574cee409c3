# One-command set-up: `make run` starts the app, `make test` passes the suite, both from a fresh clone.
# The virtual environment is reinstalled only when pyproject.toml changes (a stamp keyed on its hash).

PYTHON ?= python3
PORT ?= 8501
VENV := .venv
PY := $(VENV)/bin/python
HASH := $(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])")
RUN_STAMP := $(VENV)/.stamp-run-$(HASH)
DEV_STAMP := $(VENV)/.stamp-dev-$(HASH)
# The project's machines keep a CPU build of torch here; elsewhere pip uses the index as usual.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -q $(FIND_LINKS)

.PHONY: run test bench lint setup setup-dev clean

run: $(RUN_STAMP)
	@echo "AIGC Industry Suite: open http://127.0.0.1:$(PORT) (Ctrl+C stops)"
	$(VENV)/bin/streamlit run suite/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false --client.toolbarMode minimal

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(PY) -m tests.benchmarks

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

setup: $(RUN_STAMP)
setup-dev: $(DEV_STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python >= 3.11 is needed; set PYTHON=python3.11')"
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): | $(VENV)/bin/python
	$(PIP_INSTALL) -e .
	@rm -f $(VENV)/.stamp-run-*
	@touch $@

$(DEV_STAMP): | $(VENV)/bin/python
	$(PIP_INSTALL) -e '.[dev]'
	@rm -f $(VENV)/.stamp-run-* $(VENV)/.stamp-dev-*
	@touch $@ $(RUN_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
