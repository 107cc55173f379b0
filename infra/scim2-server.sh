#!/usr/bin/env bash
# Starts scim2-server (PyPI, an in-memory SCIM 2.0 server) on a free 127.0.0.1 port for the tests.
#
# Usage:   eval "$(bash infra/scim2-server.sh)"   # exports SCIM2_SERVER_URL, SCIM2_SERVER_TOKEN, SCIM2_SERVER_PID
#          ... run tests ...
#          kill "$SCIM2_SERVER_PID"
#
# First run: creates the project venv `.venv` at the repository root and installs
# infra/requirements-test.txt into it (skipped when already installed). Progress goes to stderr;
# only the `export` line goes to stdout, so the output can be `eval`ed.
#
# Each test uses its own tenant (`$SCIM2_SERVER_URL/<tenant>/v2`): the server runs with
# `--dynamic-tenants`, so tests need no reset and run in parallel.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
requirements="$repo_root/infra/requirements-test.txt"
deadline_seconds="${SCIM2_SERVER_START_DEADLINE:-30}"

say() { printf '%s\n' "$*" >&2; }

# shellcheck source=infra/venv.sh
source "$repo_root/infra/venv.sh"
ensure_venv "$venv" "$requirements"

if [[ ! -x "$venv/bin/scim2-server" ]]; then
    say "scim2-server is not in $venv/bin after installing $requirements"
    exit 1
fi

token="${SCIM2_SERVER_TOKEN:-test-$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(12))')}"

# scim2-server cannot report the port it bound when given `--port 0` (it prints 0), so pick a free
# port here; another process may grab it in between, hence the retry.
for attempt in 1 2 3; do
    port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    log_file="${SCIM2_SERVER_LOG:-$repo_root/target/scim2-server-$port.log}"
    mkdir -p "$(dirname "$log_file")"
    "$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --dynamic-tenants \
        --bearer-token "$token" >"$log_file" 2>&1 </dev/null &
    pid=$!
    url="http://127.0.0.1:$port"
    started="$(date +%s)"
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "scim2-server exited during start (attempt $attempt); log: $log_file"
            break
        fi
        # Ready when a (dynamic) tenant answers its configuration with 200 to our token.
        if "$venv/bin/python" - "$url/ready-check/v2/ServiceProviderConfig" "$token" 2>/dev/null <<'PY'
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
sys.exit(0 if urllib.request.urlopen(request, timeout=2).status == 200 else 1)
PY
        then
            printf 'export SCIM2_SERVER_URL=%s SCIM2_SERVER_TOKEN=%s SCIM2_SERVER_PID=%s\n' \
                "$url" "$token" "$pid"
            say "scim2-server $pid listens on $url (log: $log_file); stop it with: kill $pid"
            exit 0
        fi
        if (($(date +%s) - started >= deadline_seconds)); then
            say "scim2-server did not answer on $url within ${deadline_seconds}s; log: $log_file"
            kill "$pid" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
done
say "could not start scim2-server; see $log_file"
exit 1
