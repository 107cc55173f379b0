#!/usr/bin/env bash
# Starts moto (PyPI, an in-memory stand-in for AWS: DynamoDB, Secrets Manager, SES, SQS) on a free
# 127.0.0.1 port for the tests.
#
# Usage:   eval "$(bash infra/moto-server.sh)"   # exports MOTO_URL, MOTO_PID
#          ... run tests ...
#          kill "$MOTO_PID"
#
# First run: creates the project venv `.venv` at the repository root and installs
# infra/requirements-test.txt into it (skipped when already installed). Progress goes to stderr;
# only the `export` line goes to stdout, so the output can be `eval`ed.
#
# One moto serves every AWS service on one port. Tests share it: each uses its own table, queue,
# secret names and tenant ids, and filters sent mail by a recipient of its own, since moto's SES
# data is global. `POST $MOTO_URL/moto-api/reset` forgets everything.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
requirements="$repo_root/infra/requirements-test.txt"
deadline_seconds="${MOTO_START_DEADLINE:-30}"

say() { printf '%s\n' "$*" >&2; }

# shellcheck source=infra/venv.sh
source "$repo_root/infra/venv.sh"
ensure_venv "$venv" "$requirements"

if [[ ! -x "$venv/bin/moto_server" ]]; then
    say "moto_server is not in $venv/bin after installing $requirements"
    exit 1
fi

# moto_server cannot report the port it bound when given `-p 0`, so pick a free port here;
# another process may grab it in between, hence the retry.
for attempt in 1 2 3; do
    port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    log_file="${MOTO_LOG:-$repo_root/target/moto-server-$port.log}"
    mkdir -p "$(dirname "$log_file")"
    # infra/moto-fixes/sitecustomize.py stops moto from keeping every DynamoDB item it wrote.
    PYTHONPATH="$repo_root/infra/moto-fixes" \
        "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 </dev/null &
    pid=$!
    url="http://127.0.0.1:$port"
    started="$(date +%s)"
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "moto_server exited during start (attempt $attempt); log: $log_file"
            break
        fi
        # Ready when moto's own API answers its state dump with 200.
        if "$venv/bin/python" - "$url/moto-api/data.json" 2>/dev/null <<'PY'
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
PY
        then
            printf 'export MOTO_URL=%s MOTO_PID=%s\n' "$url" "$pid"
            say "moto_server $pid listens on $url (log: $log_file); stop it with: kill $pid"
            exit 0
        fi
        if (($(date +%s) - started >= deadline_seconds)); then
            say "moto_server did not answer on $url within ${deadline_seconds}s; log: $log_file"
            kill "$pid" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
done
say "could not start moto_server; see $log_file"
exit 1
