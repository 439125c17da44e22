#!/usr/bin/env bash
# Builds the auditor's verifier on its own: a wheel of `muster-verify` holding only
# src/muster_verify (standard library + cryptography), so an oversight body can install and
# read it without the rest of Muster.
# Usage: scripts/verifier-wheel.sh OUTDIR   (then: pip install OUTDIR/muster_verify-*.whl)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/verifier-wheel.sh OUTDIR}"
python="${PYTHON:-.venv/bin/python}"
version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
cryptography="$(grep -o '"cryptography[^"]*"' pyproject.toml)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -r src/muster_verify "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
cat > "$stage/pyproject.toml" <<TOML
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "muster-verify"
version = "$version"
description = "Offline verifier for Muster's transparency log (C2SP tlog formats, RFC 9162)."
requires-python = ">=3.11"
license = { text = "AGPL-3.0-or-later" }
dependencies = [$cryptography]

[project.scripts]
muster-verify = "muster_verify.cli:main"

[tool.setuptools]
packages = ["muster_verify"]
TOML
mkdir -p "$out"
.venv/bin/uv build -q --wheel --out-dir "$out" "$stage"
ls "$out"/muster_verify-"$version"-*.whl
