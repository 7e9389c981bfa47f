#!/usr/bin/env bash
# The mixture search and the selection study with GPU proxies: the same benchmarks, the same
# code, bigger proxies trained longer. Run from the repository root on a CUDA machine with the
# dev environment (make env: Java for the Spark steps) and the study pool in bench/.work/selection
# (built by `python -m bench.selection_pool` here, or copied from a CPU machine).
#
#   SIZE=proxy_20m STEPS=2000 scripts/mixture_study_gpu.sh
#
# Writes mixsearch_gpu.json and selection_gpu.json to RESULTS (default bench/results).
# DEVICE=cpu with a few STEPS and PROXIES checks the script end to end on a machine without
# a GPU (RESULTS elsewhere, so that the measured results stay).
set -euo pipefail
size=${SIZE:-proxy_5m}
results=${RESULTS:-bench/results}
export THRESHER_PROXY_SIZE="$size"
export THRESHER_PROXY_DEVICE=${DEVICE:-cuda}
export THRESHER_PROXY_MAX_STEPS=${STEPS:-2000}
export THRESHER_PROXY_BATCH_SIZE=${BATCH:-32}
export THRESHER_PROXY_SEQUENCE_LENGTH=${SEQUENCE:-512}
export THRESHER_PROXY_VOCAB_SIZE=${VOCAB:-16384}
# tokens (bytes) each mixture holds: about one pass over it for the run above
export THRESHER_PROXY_BUDGET_TOKENS=${BUDGET:-$((THRESHER_PROXY_MAX_STEPS * THRESHER_PROXY_BATCH_SIZE * THRESHER_PROXY_SEQUENCE_LENGTH * 3))}
export THRESHER_PROXY_THREADS=${THREADS:-4}
export THRESHER_MIXTURE_SEARCH_PROXIES=${PROXIES:-256}
python=${PYTHON:-.venv/bin/python}
"$python" -m bench.mixsearch --parallel 1 --output "$results/mixsearch_gpu.json"
"$python" -m bench.selection --parallel 1 --searched "$results/mixsearch_gpu.json" \
  --output "$results/selection_gpu.json"
