# Thresher on one machine: embedded Spark (local[*]), Delta on local disk, MLflow and
# Airflow on SQLite files under $(THRESHER_HOME). Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export THRESHER_HOME ?= $(CURDIR)/.thresher
export SPARK_LOCAL_IP := 127.0.0.1
export PYSPARK_PYTHON := $(BIN)/python
export PATH := $(BIN):$(PATH)
export AIRFLOW_HOME := $(THRESHER_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(AIRFLOW_HOME)/airflow.db
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL := http://127.0.0.1:8080/execution/
# The UIs listen on loopback only (airflow standalone would bind every interface).
export AIRFLOW__API__HOST := 127.0.0.1
export GX_ANALYTICS_ENABLED := False

# make demo DATA=/path/to/corpus ingests your own files instead of the Debian pages.
DATA ?=
DEMO_INPUT := $(if $(DATA),$(abspath $(DATA)),$(THRESHER_HOME)/input/debian-docs)
DEMO_SOURCE := $(if $(DATA),$(notdir $(abspath $(DATA))),debian-docs)
DEMO_DATE ?= $(shell date -u +%F)
# SIB-200 items per language and split the demo's domain classifier trains on (0 = all 800:
# embedding them takes ~11 min on 2 cores; 200 takes ~4).
DEMO_LABELS ?= 200

.PHONY: help env env-vars test lint demo demo-data airflow-db airflow-ui mlflow-ui clean bench-dedup bench-sampling bench-domain bench-pretrain bench-poso bench-murating bench-mixsearch bench-selection bench-langmix gpu-check

help:
	@echo "make demo        run the curation DAG end to end on real multilingual pages"
	@echo "make test        run the test suite (what CI runs)"
	@echo "make airflow-ui  Airflow UI on http://127.0.0.1:8080 over the demo's stores"
	@echo "make mlflow-ui   MLflow UI on http://127.0.0.1:5000 over the demo's stores"
	@echo "make bench-dedup | bench-sampling | bench-domain | bench-pretrain | bench-poso | bench-murating | bench-mixsearch | bench-selection | bench-langmix"
	@echo "                 benchmarks → bench/results/"

env: $(STAMP)

# recbole only for the MovieLens-100K files it ships (POSO experiments): its own requirements
# pin ray<=2.6.3 and more, none of which is needed to read them.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[spark,airflow,ml,dev]"
	$(BIN)/pip install --quiet --no-deps recbole==1.2.1
	@touch $@

# eval "$(make -s env-vars)" gives a shell the demo's stores (for airflow/thresher/mlflow commands).
env-vars:
	@for v in THRESHER_HOME SPARK_LOCAL_IP PYSPARK_PYTHON PATH AIRFLOW_HOME AIRFLOW__CORE__DAGS_FOLDER \
	  AIRFLOW__CORE__PLUGINS_FOLDER AIRFLOW__CORE__LOAD_EXAMPLES AIRFLOW__DATABASE__SQL_ALCHEMY_CONN \
	  AIRFLOW__CORE__EXECUTION_API_SERVER_URL AIRFLOW__API__HOST GX_ANALYTICS_ENABLED; do echo "export $$v='$${!v}'"; done

test: env
	$(BIN)/python -m pytest

lint: env
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

demo-data:
	@if [ -z "$(DATA)" ]; then scripts/fetch_debian_docs.sh "$(DEMO_INPUT)"; fi

airflow-db: env
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || \
	  { tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1; }

# dags test runs every task in this process; a failure should stop the demo, not wait to retry.
demo: env demo-data airflow-db
	@echo "curation DAG for partition $(DEMO_DATE) over $(DEMO_INPUT)"
	THRESHER_AIRFLOW_TASK_RETRIES=0 THRESHER_DOMAIN_LABELS_PER_LANGUAGE=$(DEMO_LABELS) \
	  $(BIN)/airflow dags test curation $(DEMO_DATE) \
	  --conf '{"input_path": "$(DEMO_INPUT)", "source": "$(DEMO_SOURCE)"}' \
	  > $(THRESHER_HOME)/demo-dag.log 2>&1 || \
	  { grep -E "ERROR|rror:|Failed|failed" $(THRESHER_HOME)/demo-dag.log | tail -20; \
	    echo "full log: $(THRESHER_HOME)/demo-dag.log"; exit 1; }
	@grep -E "DagRun Finished|gate [a-z_]* on " $(THRESHER_HOME)/demo-dag.log | cut -c1-200
	$(BIN)/thresher report --date $(DEMO_DATE) 2>/dev/null

airflow-ui: airflow-db
	@echo "Airflow UI: http://127.0.0.1:8080 (login: admin; password in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"
	$(BIN)/airflow standalone

mlflow-ui: env
	$(BIN)/mlflow server --backend-store-uri sqlite:///$(THRESHER_HOME)/mlflow.db \
	  --default-artifact-root $(THRESHER_HOME)/mlartifacts --host 127.0.0.1 --port 5000

# Thresher against datatrove, datasketch and rensa on real Debian pages (bench/README.md);
# writes bench/results/dedup.json. BENCH_ARGS="--sizes small --limit 5000" for a quick run.
BENCH_ARGS ?= --sizes small,large
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e ".[spark,airflow,ml,dev,bench]"
	@touch $@

bench-dedup: $(BENCH_STAMP)
	$(BIN)/python -m bench.dedup.run $(BENCH_ARGS)

# QuaDMix sampler over 1M+ real score rows vs a plain scan; rank error → bench/results/sampling.json.
bench-sampling: env
	$(BIN)/python -m bench.sampling

# Domain classifier trained on SIB-200 train, accuracy per language on dev → bench/results/domain.json.
bench-domain: env
	$(BIN)/python -m bench.domain

clean:
	rm -rf $(THRESHER_HOME)

# Pretraining tokens/s per named size on this CPU (+ the GPU check's figures if present).
bench-pretrain: env
	$(BIN)/python -m bench.pretrain

# On a machine with a CUDA GPU: the pretraining entry point in bf16 with torch.compile.
gpu-check: env
	$(BIN)/python -m bench.gpu_check prepare --out $(CURDIR)/.gpu
	$(BIN)/python -m bench.gpu_check run --data $(CURDIR)/.gpu --out bench/results

# POSO grid on MovieLens-100K (recbole's copy): test GAUC overall / new / regular users per
# model over 3 seeds → bench/results/poso.json.
bench-poso: env
	$(BIN)/python -m bench.poso $(BENCH_ARGS)

# MuRating on the parallel data in ../shared/data: pairwise accuracy per language and pair
# type, parallel Spearman, English agreement → bench/results/murating.json.
bench-murating: env
	$(BIN)/python -m bench.murating

# QuaDMix mixture search on the study pool (bench/selection_pool.py fetches and curates it):
# 64 proxies under the quota scored on held-out text, seed noise, LightGBM vs the mean and
# ridge with intervals, the choice confirmed with seeds → bench/results/mixsearch.json.
bench-mixsearch: env
	nice -n 5 $(BIN)/python -m bench.mixsearch $(MIXSEARCH_ARGS)

# Controlled selection runs on the same pool: random, quality_only, domain_balanced, QuaDMix
# default and searched (murating where its table exists), 3 seeds each, held-out bits per
# byte and accuracy with 95 % intervals → bench/results/selection.json.
bench-selection: env
	nice -n 5 $(BIN)/python -m bench.selection $(SELECTION_ARGS)

# MuBench's language-mix study on the demo's lake (run `make demo` first): English : Chinese
# ratio × parallel share, a tiny model per cell, SIB-200 → bench/results/language_mix.json.
bench-langmix: env
	$(BIN)/python -m bench.language_mix --lake $(THRESHER_HOME)/lake $(LANGMIX_ARGS)
