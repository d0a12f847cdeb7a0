# labelgraph's front door. Every target installs what it needs first.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11

.PHONY: install run test lint schemas bench clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Re-sync whenever the lock or a member's pyproject changes.
.venv/.synced: $(UV) uv.lock pyproject.toml $(wildcard */*/pyproject.toml)
	$(UV) sync --all-packages --frozen
	touch $@

install: .venv/.synced ## Create .venv with every package at its locked version.

run: install ## The whole pipeline on the embedded stack with sample images; Ctrl-C stops it.
	$(PY) -m labelgraph_demo

test: install ## The whole suite, starting the embedded stack itself.
	$(PY) -m pytest

lint: install ## ruff and mypy over every package.
	$(PY) -m ruff check .
	$(PY) -m mypy libs/*/src services/*/src tools/*/src

schemas: install ## Regenerate schemas/ from the contract model.
	$(PY) -m labelgraph_contract export schemas

bench: install ## Every benchmark in bench/, figures to bench-output/ (see docs/benchmarks.md).
	@mkdir -p bench-output
	@set -e; for script in bench/*_bench.py; do \
		echo "== $$script"; $(PY) $$script --output bench-output; done

clean: ## Remove the environments and the stack's state.
	rm -rf .venv .tools .devstack
