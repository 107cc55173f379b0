#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, starts the local servers
# on free 127.0.0.1 ports, runs every test of the workspace, and stops the servers again.
#
#   bash infra/test.sh            # everything
#   bash infra/test.sh -p sync-core   # extra arguments go to the test runner
#
# Installs: a project-local Python venv `.venv` with infra/requirements-test.txt (scim2-server, the
# SCIM destination; moto, the AWS stand-in); Debian's chromium and tests/browser's npm packages
# (puppeteer-core, axe-core) for the console's browser test (infra/browser.sh). The fake Personio
# needs nothing: the tests start it in-process on a free port.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || { echo "cargo is not installed: install Rust stable with rustup" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is not installed: it runs the SCIM test server" >&2; exit 1; }

# Chromium and the browser test's npm packages: installed in the background while the servers
# start and the tests build (apt-get takes about 2 minutes on a fresh machine).
mkdir -p target
browser_env="target/browser-env.sh"
bash infra/browser.sh > "$browser_env" 2> target/browser-install.log &
browser_install=$!

# scim2-server and moto: installed into .venv on first use, started on free ports, stopped on exit.
stop() { kill "${SCIM2_SERVER_PID:-}" "${MOTO_PID:-}" 2>/dev/null || true; }
trap stop EXIT
eval "$(bash infra/scim2-server.sh)"
eval "$(bash infra/moto-server.sh)"

# The tests build first; the browser test needs the install, so wait for it here.
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-run "$@" >&2
fi
if ! wait "$browser_install"; then
    cat target/browser-install.log >&2
    echo "installing the browser test's Chromium and npm packages failed (infra/browser.sh)" >&2
    exit 1
fi
# shellcheck source=/dev/null
source "$browser_env"

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
