#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, starts the local servers
# on free 127.0.0.1 ports, runs every test of the workspace, and stops the servers again.
#
#   bash infra/test.sh            # everything
#   bash infra/test.sh -p sync-core   # extra arguments go to the test runner
#
# Installs: a project-local Python venv `.venv` with infra/requirements-test.txt (scim2-server, the
# SCIM destination; moto, the AWS stand-in). The fake Personio needs nothing: the tests start it
# in-process on a free port.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || { echo "cargo is not installed: install Rust stable with rustup" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is not installed: it runs the SCIM test server" >&2; exit 1; }

# scim2-server and moto: installed into .venv on first use, started on free ports, stopped on exit.
stop() { kill "${SCIM2_SERVER_PID:-}" "${MOTO_PID:-}" 2>/dev/null || true; }
trap stop EXIT
eval "$(bash infra/scim2-server.sh)"
eval "$(bash infra/moto-server.sh)"

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
