#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data volume: one login role and one
# database per service, so Airflow's metadata and MLflow's runs never share a schema or a password.
# The passwords arrive as environment variables from compose (docker/.env), never from this file.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set}"
: "${MLFLOW_DB_PASSWORD:?MLFLOW_DB_PASSWORD is not set}"

# psql substitutes :'name' with a quoted literal, so a password needs no escaping here.
psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    --set airflow_password="${AIRFLOW_DB_PASSWORD}" \
    --set mlflow_password="${MLFLOW_DB_PASSWORD}" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
SQL
