#!/usr/bin/env bash
# The sandbox suite again in rootless mode: as an ordinary user (nobody, when started as root),
# with a venv built from Debian's /usr/bin/python3 in a folder that user can read. The default
# interpreter may live where that user cannot go (here under /root, mode 700), and so may the
# checkout: the code and the tests are copied next to the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
SYSTEM_PYTHON=${SYSTEM_PYTHON:-/usr/bin/python3}
ROOTLESS_USER=${ROOTLESS_USER:-nobody}
DIR=${ROOTLESS_DIR:-/var/tmp/mlquiz-rootless-$(pwd | sha256sum | cut -c1-12)}

if [ "$(id -u)" = 0 ]; then as_user=(runuser -u "$ROOTLESS_USER" --); else as_user=(); fi
mkdir -p "$DIR"
chmod 755 "$DIR"
stamp="$DIR/venv/.installed-$(sha256sum requirements-rootless.txt | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    rm -rf "$DIR/venv"
    if ! "$SYSTEM_PYTHON" -m venv "$DIR/venv" 2>/dev/null; then
        rm -rf "$DIR/venv"
        apt-get update -qq && apt-get install -y -qq python3-venv
        "$SYSTEM_PYTHON" -m venv "$DIR/venv"
    fi
    "$DIR/venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-rootless.txt
    touch "$stamp"
fi
src="$DIR/src"
rm -rf "$src"
mkdir -p "$src/tests"
cp -r engine bench pyproject.toml "$src/"
cp -r tests/engine "$src/tests/"
find "$src" -name __pycache__ -prune -exec rm -rf {} +
chmod -R a+rX "$DIR"
if [ "${1:-}" = --prepare ]; then  # bench/grading.py: the venv and the copy, no tests
    echo "$DIR"
    exit 0
fi
cd "$src"
# A scrubbed environment: nothing of the caller's (secrets included) reaches the test user.
"${as_user[@]}" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$DIR" SANDBOX_TEST_MODE=rootless \
    "$DIR/venv/bin/python" -m pytest -p no:cacheprovider --confcutdir=tests/engine \
    tests/engine/sandbox -q "$@"
