# The two entry points from README.md: `make serve` and `make test`. Both build the virtualenv
# on first use; torch is pinned only here (the package itself accepts any torch>=2.4).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup serve test lint typecheck pytest clean client browser

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

serve: setup
	$(BIN)/rxgen serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy --strict rxcore components drivers webapp

pytest: setup
	$(BIN)/python -m pytest

# The browser client: a fresh build must equal the committed bundle in webapp/static (the build
# is deterministic: fixed file names, no source maps), then its unit tests.
CLIENT := webapp/client
client:
	cd $(CLIENT) && npm ci --no-audit --no-fund && npm run build && npm run typecheck && npm test
	@git diff --quiet HEAD -- webapp/static && test -z "$$(git ls-files --others --exclude-standard webapp/static)" \
		|| { git status --short -- webapp/static; echo "webapp/static differs from a fresh build of $(CLIENT): commit the rebuilt bundle"; exit 1; }

# Debian's chromium for the browser tests (tests/e2e); `playwright install` cannot download here.
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| { echo "the browser tests need /usr/bin/chromium: run 'apt-get install -y chromium' as root"; exit 1; }

test: lint typecheck client browser pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
