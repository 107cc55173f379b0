#!/usr/bin/env bash
# Installs what the console's browser test needs (functions/cli/tests/browser.rs):
#   - Chromium from Debian's `chromium` package (headless; no download of its own), with apt-get
#     when it is missing. apt-get needs root: without it, install `chromium` yourself or point
#     CHROMIUM at a Chromium binary;
#   - the npm packages of tests/browser (puppeteer-core, axe-core), with `npm ci` from its lock file.
#
# Usage:   eval "$(bash infra/browser.sh)"    # exports CHROMIUM
# Progress goes to stderr; only the `export` line goes to stdout.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '%s\n' "$*" >&2; }

chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
    if [[ "$(id -u)" != 0 ]]; then
        say "Chromium is missing and apt-get needs root: install Debian's chromium package (sudo apt-get install chromium) or set CHROMIUM"
        exit 1
    fi
    say "installing Debian's chromium package (about 2 minutes)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    chromium="$(command -v chromium)"
fi

command -v npm >/dev/null || { say "npm is not installed: install Node.js 20 or newer"; exit 1; }
browser_dir="$repo_root/tests/browser"
# Installed again only when the lock file changed since.
stamp="$browser_dir/node_modules/.installed-from-lock"
if [[ ! -f "$stamp" ]] || ! cmp -s "$browser_dir/package-lock.json" "$stamp"; then
    say "installing tests/browser's npm packages (puppeteer-core, axe-core)"
    (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$browser_dir/package-lock.json" "$stamp"
fi

printf 'export CHROMIUM=%q\n' "$chromium"
