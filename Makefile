# virialff: one command to install, one to run the demo, one to test.
# `make setup` is idempotent: it installs only what is missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
CONFIG ?= config.yaml
APT_PACKAGES := psi4 xtb
SETUP_STAMP := $(VENV)/.setup-stamp

.PHONY: setup run test lint dry-run report studies clean-results system-packages

setup: system-packages $(SETUP_STAMP)

# apt runs only when a program is missing; `apt-get update` runs once, before the install.
system-packages:
	@missing=""; \
	command -v psi4 >/dev/null 2>&1 || missing="$$missing psi4"; \
	command -v xtb >/dev/null 2>&1 || missing="$$missing xtb"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing python3-numpy; \
	fi

$(SETUP_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

run: setup
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --printshellcmds

# The seeded studies (every comparison between trained models, >= 3 seeds); not part of run.
studies: setup
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --printshellcmds studies

dry-run: setup
	$(BIN)/snakemake -n --cores $(CORES) --configfile $(CONFIG)

report: setup
	$(BIN)/snakemake --cores 1 --configfile $(CONFIG) --report results/report.html

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/* .snakemake
	touch results/.gitkeep
