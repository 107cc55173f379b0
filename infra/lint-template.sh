#!/usr/bin/env bash
# Lints template.yaml three ways and exits non-zero on any finding:
#   1. cfn-lint: CloudFormation and SAM schemas, property types, dangling !Ref/!GetAtt.
#   2. sam validate: the real SAM translator (it expands AWS::Serverless::* and catches what the
#      schemas allow but the transform refuses, e.g. an SQS event without a Queue). Not
#      `sam validate --lint`: in SAM CLI 1.170 `--lint` replaces the translator with the very
#      cfn-lint of step 1, so it would add nothing.
#   3. our own check, because both miss these: every AWS::Serverless::Function
#      runs `provided.al2023` on `arm64` (its own setting or Globals'), is built with
#      `BuildMethod: rust-cargolambda` from the repository root, and its `Binary` is a Lambda binary
#      of this workspace; and every Lambda package of the workspace has a function in the template.
#
#   bash infra/lint-template.sh                 # template.yaml at the repository root
#   bash infra/lint-template.sh other.yaml      # another template (paths relative to the root)
#
# Offline: no AWS credentials, no network beyond PyPI for the first install. Installs
# infra/requirements-deploy.txt into the deploy venv `.venv-deploy` when something is missing or at
# another version (a separate venv from the tests' `.venv`: aws-sam-cli would downgrade packages
# that moto and scim2-server use).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
template="${1:-template.yaml}"
venv="$root/.venv-deploy"
requirements="$root/infra/requirements-deploy.txt"
# Any region will do: nothing is deployed, but SAM's translator and cfn-lint's regional specs want one.
region="${LINT_REGION:-eu-central-1}"

say() { printf '%s\n' "$*" >&2; }

[[ -f "$template" ]] || { say "no template at $root/$template"; exit 1; }
command -v python3 >/dev/null || { say "python3 is not installed: the linters are Python tools"; exit 1; }
command -v cargo >/dev/null || { say "cargo is not installed: the check reads the workspace's binaries with cargo metadata"; exit 1; }

# shellcheck source=infra/venv.sh
source "$root/infra/venv.sh"
ensure_venv "$venv" "$requirements"

failed=0

say "== cfn-lint $template"
if ! "$venv/bin/cfn-lint" --regions "$region" -- "$template"; then
    failed=1
fi

say "== sam validate (SAM translator) $template"
# No telemetry, and no credentials needed: the translator runs locally.
if ! SAM_CLI_TELEMETRY=0 "$venv/bin/sam" validate --template-file "$template" --region "$region"; then
    failed=1
fi

say "== Lambda settings of $template (runtime, architecture, build method, binaries)"
# The Lambda packages: every workspace package under functions/ with a binary at src/main.rs,
# except the CLI. infra/build-lambdas.sh builds the same set.
cargo_metadata="$(cargo metadata --no-deps --format-version 1)" ||
    { say "cargo metadata failed: fix Cargo.toml first"; exit 1; }
# (Handed over in the environment: the script itself comes on standard input.)
if ! CARGO_METADATA="$cargo_metadata" "$venv/bin/python" - "$template" "$root" <<'PY'
import json, os, sys
import yaml

template_path, root = sys.argv[1], sys.argv[2]
RUNTIME, ARCHITECTURES, BUILD_METHOD = "provided.al2023", ["arm64"], "rust-cargolambda"
NOT_LAMBDAS = {"functions/cli"}

# CloudFormation's short tags (!Ref, !GetAtt, !Sub, …) as plain values: only literals are checked.
class Loader(yaml.SafeLoader):
    pass

def intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"!" + suffix: value}

Loader.add_multi_constructor("!", intrinsic)

with open(template_path) as handle:
    template = yaml.load(handle, Loader=Loader) or {}

metadata = json.loads(os.environ["CARGO_METADATA"])
lambda_binaries = {}
for package in metadata["packages"]:
    directory = os.path.relpath(os.path.dirname(package["manifest_path"]), root)
    if not directory.startswith("functions/") or directory in NOT_LAMBDAS:
        continue
    for target in package["targets"]:
        if "bin" in target["kind"] and os.path.relpath(target["src_path"], root) == f"{directory}/src/main.rs":
            lambda_binaries[target["name"]] = directory

findings = []
globals_function = (template.get("Globals") or {}).get("Function") or {}
for key, expected in (("Runtime", RUNTIME), ("Architectures", ARCHITECTURES)):
    if key in globals_function and globals_function[key] != expected:
        findings.append(f"Globals.Function.{key} is {globals_function[key]!r}; it must be {expected!r}")

functions = {
    name: resource
    for name, resource in (template.get("Resources") or {}).items()
    if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::Function"
}
deployed = {}
for name, resource in functions.items():
    properties = resource.get("Properties") or {}
    for key, expected in (("Runtime", RUNTIME), ("Architectures", ARCHITECTURES)):
        value = properties.get(key, globals_function.get(key))
        if value != expected:
            where = "its own" if key in properties else "from Globals" if key in globals_function else "not set"
            findings.append(f"{name}: {key} is {value!r} ({where}); it must be {expected!r}")
    metadata_section = resource.get("Metadata") or {}
    if metadata_section.get("BuildMethod") != BUILD_METHOD:
        findings.append(f"{name}: Metadata.BuildMethod is {metadata_section.get('BuildMethod')!r}; it must be {BUILD_METHOD!r}")
    binary = (metadata_section.get("BuildProperties") or {}).get("Binary")
    if binary not in lambda_binaries:
        known = ", ".join(sorted(lambda_binaries)) or "none"
        findings.append(f"{name}: Metadata.BuildProperties.Binary is {binary!r}, not a Lambda binary of the workspace (known: {known})")
    elif binary in deployed:
        findings.append(f"{name}: Binary {binary!r} is already deployed by {deployed[binary]}")
    else:
        deployed[binary] = name
    # cargo-lambda builds from CodeUri; the workspace's binaries are found from its root.
    code_uri = properties.get("CodeUri", (template.get("Globals") or {}).get("Function", {}).get("CodeUri"))
    if not isinstance(code_uri, str) or not os.path.isfile(os.path.join(root, code_uri, "Cargo.toml")):
        findings.append(f"{name}: CodeUri is {code_uri!r}; it must be the workspace root '.' (a folder with Cargo.toml)")

for binary, directory in sorted(lambda_binaries.items()):
    if binary not in deployed:
        findings.append(f"{directory} builds the Lambda binary {binary!r}, but no AWS::Serverless::Function deploys it (Metadata.BuildProperties.Binary: {binary})")

if not functions:
    findings.append("the template has no AWS::Serverless::Function")
for finding in findings:
    print(f"{template_path}: {finding}")
if findings:
    sys.exit(1)
summary = ", ".join(f"{name} ({binary})" for binary, name in deployed.items())
print(f"{len(functions)} functions on {RUNTIME}/arm64 built with {BUILD_METHOD}: {summary}")
PY
then
    failed=1
fi

if ((failed)); then
    say "template lint FAILED: see the findings above"
    exit 1
fi
say "template lint passed: cfn-lint, sam validate and the Lambda settings check are clean"
