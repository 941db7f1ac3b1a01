# The two commands of the README: `make run` starts the app, `make test` runs every test
# (ruff, unit and page tests, and the browser tests in Chromium).
# Both create .venv and install the pinned requirements on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx

.PHONY: run test e2e lint chromium screenshots default-model benchmarks loadtest loadtest-compare \
	messages nginx bench-scale

# `make run` installs only what the app needs; the test tools come with `make test`.
$(RUN_STAMP): requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is needed: make PYTHON=/path/to/python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/streamlit run app.py

# The browser tests drive Debian's chromium (Playwright cannot download a browser here); the
# emoji font draws the page icons in the screenshots.
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests (apt-get, needs root)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji; }
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing: apt-get install chromium"; exit 1; }

# The replica tests (tests/deploy) and the scale benchmark put Debian's nginx in front of the
# app, configured from deploy/nginx/default.conf.template (docker-compose.yml's proxy uses it).
nginx:
	@test -x $(NGINX) || { \
	  echo "Installing Debian's nginx for the replica tests (apt-get, needs root)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx; }
	@test -x $(NGINX) || { echo "$(NGINX) is still missing: apt-get install nginx"; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .

# pytest exits non-zero on any failure, and with 5 when it collects no test: both stop make.
test: $(STAMP) chromium nginx lint
	$(BIN)/python -m pytest

# The browser tests alone (they start the app themselves on a free port).
e2e: $(STAMP) chromium
	$(BIN)/python -m pytest tests/e2e -m e2e

# Regenerates the README's images in docs/screenshots/ from the browser tests.
screenshots: $(STAMP) chromium
	@fc-list 2>/dev/null | grep -qi "color emoji" || \
	  echo "note: apt-get install fonts-noto-color-emoji, or the page icons show as boxes"
	$(BIN)/python -m pytest tests/e2e -m screenshots --screenshots-to docs/screenshots

# The interface's Russian catalog (ui/common/i18n.py): extract every marked string into
# locale/messages.pot, merge it into locale/ru/LC_MESSAGES/messages.po (new strings come in
# untranslated, changed ones fuzzy: translate them, then run this again), compile messages.mo.
# The .mo is committed; tests/ui/common/test_i18n.py checks it is this compilation of the .po.
BABEL_KEYWORDS := --no-default-keywords -k _ -k N_ -k ngettext:1,2 -k gettext -k A:4 -k _entry:2
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --sort-output --add-location=file \
	  --project=nn-playground -o locale/messages.pot .
	$(BIN)/pybabel update -i locale/messages.pot -d locale -D messages -l ru --ignore-obsolete
	$(BIN)/pybabel compile -d locale -D messages -l ru --statistics

default-model: $(RUN_STAMP)
	$(BIN)/python scripts/train_default_model.py

benchmarks: $(STAMP) chromium nginx
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# The classroom load test (a benchmark: prints figures): a real server, N sessions at the
# websocket level with think time, on /forward, /descent and /curves.
loadtest: $(STAMP)
	$(BIN)/python benchmarks/loadtest.py --pages forward,descent,curves --sessions 1,10,30

# The same, against the code before the classroom work (aacb2e3) in the same run: ratios
# (its server without uvloop, which its requirements did not have).
loadtest-compare: $(STAMP)
	$(BIN)/python benchmarks/loadtest.py --pages forward,descent --sessions 1,10,30 --baseline aacb2e3 \
		--hide-in-baseline uvloop

# 1 then 2 app replicas behind nginx (deploy/proxy.py), the classroom load on /forward through
# it: reruns/s, latencies, CPU, and the throughput ratio 2 replicas / 1 measured in one run.
bench-scale: $(STAMP) nginx
	$(BIN)/python benchmarks/bench_scale.py
