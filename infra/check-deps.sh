#!/usr/bin/env bash
# Fails when a crate of the workspace declares a dependency its code never names:
# `cargo machete` (crates.io, bnjbvr/cargo-machete) reads each package's Cargo.toml and searches
# its sources for the crate. Unused dependencies cost build time and widen what we ship.
#
#   bash infra/check-deps.sh
#
# A false positive (a crate used only through a macro or a feature, never by name) goes into that
# package's Cargo.toml with the reason beside it:
#
#   [package.metadata.cargo-machete]
#   # <why the crate is needed although no code names it>
#   ignored = ["crate-name"]
#
# Installs cargo-machete with `cargo install --locked` when it is missing or at another version
# (needs only Rust and crates.io). .venv, target and other git-ignored folders are not searched.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="0.9.2"

say() { printf '%s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "check-deps: cargo is not installed: install Rust stable with rustup"; exit 1; }

if [[ "$(cargo machete --version 2>/dev/null || true)" != "$version" ]]; then
    say "installing cargo-machete $version"
    cargo install --locked --quiet cargo-machete --version "$version"
fi

cargo machete
