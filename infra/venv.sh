# Sourced by the infra scripts (not run): `ensure_venv VENV REQUIREMENTS` creates the Python venv
# VENV when it is missing and installs REQUIREMENTS into it when a listed package is missing or at
# another version than its `==` pin. Progress goes to stderr, so a script's stdout stays its own.

ensure_venv() {
    local venv="$1" requirements="$2"
    if [[ ! -x "$venv/bin/python" ]]; then
        printf 'creating the virtual environment %s\n' "$venv" >&2
        python3 -m venv "$venv"
    fi
    # The installed metadata answers "is everything there at its pin" offline in a fraction of a
    # second, so `pip install` runs only when something is missing.
    if ! "$venv/bin/python" - "$requirements" >/dev/null 2>&1 <<'PY'
import re, sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    match = re.match(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?\s*(==\s*([^;\s]+))?", line)
    if not match:
        sys.exit(1)
    try:
        installed = version(match.group(1))
    except PackageNotFoundError:
        sys.exit(1)
    if match.group(4) and installed != match.group(4):
        sys.exit(1)
PY
    then
        printf 'installing %s into %s\n' "$requirements" "$venv" >&2
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    fi
}
