# cfplan: `make demo` sets everything up and runs the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck venv bench clean demo-data chromium fonts screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/cfplan demo --out out/demo

test: $(STAMP) chromium fonts
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/python -m pytest -q

# mypy sees the installed layout (cfplan.geo = geo/, ...) through a tree of links.
TYPECHECK := build/typecheck
typecheck: $(STAMP)
	@rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/cfplan
	@for f in cfplan/*.py cfplan/py.typed; do ln -s ../../../$$f $(TYPECHECK)/cfplan/; done
	@for d in geo layers analysis maps; do ln -s ../../../$$d $(TYPECHECK)/cfplan/$$d; done
	cd $(TYPECHECK) && ../../$(BIN)/mypy --config-file ../../pyproject.toml -p cfplan

# The browser test opens the map in headless Chromium (Debian package).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# CJK fonts, checked on their own: without them Chromium (and any figure) draws Chinese as boxes.
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fontconfig fonts-noto-cjk; }

# Refresh the README's screenshots (docs/img/) from the browser tests.
screenshots: $(STAMP) chromium fonts
	CFPLAN_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/test_map_browser.py

lint: $(STAMP)
	$(BIN)/ruff check .

demo-data: $(STAMP)
	$(BIN)/python -m cfplan.demo

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/access.py --nodes 100000
	$(BIN)/python benchmarks/streets.py --nodes 100000

clean:
	rm -rf $(VENV) out build *.egg-info
