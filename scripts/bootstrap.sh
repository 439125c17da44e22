#!/usr/bin/env bash
# Sets up what Muster needs on a Debian machine: system packages (when root), a virtual
# environment in .venv with the pinned dependencies, and Muster itself installed into it.
# Usage: scripts/bootstrap.sh [demo|test]   (test also installs what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-demo}"

need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

python3.11 -c 'import ensurepip, venv' 2>/dev/null || need_pkgs+=(python3-venv)
# WeasyPrint (PDF documents) loads pango and harfbuzz and needs a font.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
    have_pkg "$pkg" || need_pkgs+=("$pkg")
done
# The tests read the PDFs back as text and pictures (pdftotext, pdftoppm), and drive Debian's
# Chromium for the browser tests (Playwright never downloads a browser here).
if [ "$purpose" = test ]; then
    have_pkg poppler-utils || need_pkgs+=(poppler-utils)
    have_pkg chromium || need_pkgs+=(chromium)
fi
if [ "$purpose" = test ] && [ -z "${MUSTER_TEST_POSTGRES_URL:-}" ]; then
    # A throwaway PostgreSQL cluster needs the server binaries.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "==> installing Debian packages: ${need_pkgs[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
    else
        echo "Muster needs these Debian packages: ${need_pkgs[*]}" >&2
        echo "Install them with: sudo apt-get install -y --no-install-recommends ${need_pkgs[*]}" >&2
        exit 1
    fi
fi

stamp=.venv/.muster-installed
want="$(sha256sum requirements.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
echo "==> creating .venv and installing pinned dependencies"
[ -x .venv/bin/python ] || python3.11 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.8
.venv/bin/uv pip install -q -p .venv/bin/python -r requirements.txt
.venv/bin/uv pip install -q -p .venv/bin/python --no-deps -e .
echo "$want" > "$stamp"
