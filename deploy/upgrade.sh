#!/bin/sh
# Upgrade the schema and set the app's database role's grants anew, as the tables' owner.
# Run it before (re)starting the app servers, after every upgrade of the code:
#
#   LAGESBILD_OWNER_DATABASE_URL=postgresql+psycopg://lagesbild_owner@db.example.se/lagesbild \
#       deploy/upgrade.sh lagesbild_app
#
# Options after the role go to `flask audit grant-app-role`: the first time, set the role's
# password from an environment variable with --password-env APP_DB_PASSWORD.
#
# The app servers themselves run with LAGESBILD_DATABASE_URL naming the app's role
# (postgresql+psycopg://lagesbild_app@db.example.se/lagesbild), which owns nothing and may only
# SELECT and INSERT on the audit trail (app/audit/app_role.py says exactly what it may do).
# The rest of the environment (LAGESBILD_ENV, the secret key, the witness) is the servers'.
set -eu
role="${1:?usage: deploy/upgrade.sh APP_ROLE [--password-env VAR]  (with LAGESBILD_OWNER_DATABASE_URL set)}"
shift
: "${LAGESBILD_OWNER_DATABASE_URL:?set LAGESBILD_OWNER_DATABASE_URL to the tables owner URL}"
cd "$(dirname "$0")/.."
flask="${FLASK:-flask}"
LAGESBILD_DATABASE_URL="$LAGESBILD_OWNER_DATABASE_URL" "$flask" --app app db upgrade
LAGESBILD_DATABASE_URL="$LAGESBILD_OWNER_DATABASE_URL" "$flask" --app app audit grant-app-role "$role" "$@"
