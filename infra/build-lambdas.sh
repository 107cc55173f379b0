#!/usr/bin/env bash
# Builds every Lambda of the workspace for AWS Lambda on Graviton (provided.al2023, arm64):
# `cargo lambda build --release --arm64`, one `bootstrap` per function in
# <target dir>/lambda/<name>/bootstrap, then checks each is an aarch64 ELF and prints its size.
#
#   bash infra/build-lambdas.sh
#
# The Lambdas are found, not listed: every workspace package under functions/ with a binary at
# src/main.rs, except the CLI (functions/cli). infra/lint-template.sh checks the same set against
# template.yaml. The target dir is cargo's own: CARGO_TARGET_DIR (or .cargo/config) is respected.
#
# Installs what is missing: infra/requirements-deploy.txt into the deploy venv `.venv-deploy`
# (cargo-lambda and zig, its cross-linker, from PyPI) and the aarch64 standard library
# (`rustup target add aarch64-unknown-linux-gnu`). cargo-lambda finds zig only through the venv's
# python, so the venv's bin goes first on PATH.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv-deploy"
requirements="$root/infra/requirements-deploy.txt"
rust_target="aarch64-unknown-linux-gnu"

say() { printf '%s\n' "$*" >&2; }
fail() { say "build-lambdas: $*"; exit 1; }

command -v cargo >/dev/null || fail "cargo is not installed: install Rust stable with rustup"
command -v rustup >/dev/null || fail "rustup is not installed: it adds the $rust_target standard library"
command -v python3 >/dev/null || fail "python3 is not installed: cargo-lambda and zig come from PyPI"

# shellcheck source=infra/venv.sh
source "$root/infra/venv.sh"
ensure_venv "$venv" "$requirements" || fail "could not install $requirements into $venv"
export PATH="$venv/bin:$PATH"
cargo lambda --version >/dev/null 2>&1 || fail "cargo lambda does not run from $venv/bin"

if ! rustup target list --installed | grep -qx "$rust_target"; then
    say "adding the Rust standard library for $rust_target"
    rustup target add "$rust_target" >&2 ||
        fail "rustup could not add $rust_target; Lambda arm64 builds need it"
fi

cargo_metadata="$(cargo metadata --no-deps --format-version 1)" || fail "cargo metadata failed: fix Cargo.toml first"
# One line per Lambda: "<package> <binary>", then a last line with the target dir.
lambdas="$(CARGO_METADATA="$cargo_metadata" python3 - "$root" <<'PY'
import json, os, sys
root = sys.argv[1]
metadata = json.loads(os.environ["CARGO_METADATA"])
for package in sorted(metadata["packages"], key=lambda p: p["name"]):
    directory = os.path.relpath(os.path.dirname(package["manifest_path"]), root)
    if not directory.startswith("functions/") or directory == "functions/cli":
        continue
    for target in package["targets"]:
        if "bin" in target["kind"] and os.path.relpath(target["src_path"], root) == f"{directory}/src/main.rs":
            print(package["name"], target["name"])
print("TARGET_DIR", metadata["target_directory"])
PY
)"
target_dir="$(printf '%s\n' "$lambdas" | sed -n 's/^TARGET_DIR //p')"
packages=()
binaries=()
while read -r package binary; do
    [[ "$package" == TARGET_DIR ]] && continue
    packages+=("$package")
    binaries+=("$binary")
done <<<"$lambdas"
((${#packages[@]})) || fail "no Lambda package found (a package under functions/ with src/main.rs)"
lambda_dir="$target_dir/lambda"

say "building ${binaries[*]} for $rust_target (release) into $lambda_dir"
started="$(date +%s)"
package_args=()
for package in "${packages[@]}"; do package_args+=(-p "$package"); done
cargo lambda build --release --arm64 --lambda-dir "$lambda_dir" "${package_args[@]}" ||
    fail "cargo lambda build failed (see above)"
say "built in $(($(date +%s) - started)) s"

# Each bootstrap must exist and be a 64-bit little-endian ELF for aarch64 (e_machine 183).
status=0
for binary in "${binaries[@]}"; do
    bootstrap="$lambda_dir/$binary/bootstrap"
    if [[ ! -f "$bootstrap" ]]; then
        say "missing: $bootstrap"
        status=1
        continue
    fi
    if ! python3 - "$bootstrap" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as handle:
    header = handle.read(20)
ok = header[:4] == b"\x7fELF" and header[4] == 2 and header[5] == 1 and struct.unpack("<H", header[18:20])[0] == 183
sys.exit(0 if ok else 1)
PY
    then
        say "not an arm64 (aarch64) ELF executable: $bootstrap"
        status=1
        continue
    fi
    size="$(stat -c %s "$bootstrap")"
    printf '%-12s %10d bytes (%s MiB)  %s\n' "$binary" "$size" \
        "$(python3 -c "print(f'{$size / 1048576:.1f}')")" "$bootstrap"
done
((status == 0)) || fail "some bootstraps are missing or not arm64"
