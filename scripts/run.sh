#!/usr/bin/env bash
# `make run`. As an ordinary user: migrate, import content and serve; grading runs in this
# process's pool in rootless mode (user namespaces). As root: privilege separation. The web
# processes (gunicorn, migrations) run as the unprivileged WEB_USER, who owns instance/; only the
# grader service (engine.sandbox.service) keeps root, reachable through a unix socket that only
# WEB_USER's group may open. The web tier then holds no capability.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
WEB_USER=${WEB_USER:-mlquiz}
SYSTEM_PYTHON=${SYSTEM_PYTHON:-/usr/bin/python3}
GUNICORN_ARGS=(--bind "$HOST:$PORT" --workers 2 --threads 8 --timeout 60 --access-logfile -
    --config quiz/gunicorn_config.py)

if [ "$(id -u)" != 0 ]; then
    "$VENV/bin/flask" --app app db upgrade
    "$VENV/bin/flask" --app app content sync
    exec "$VENV/bin/gunicorn" "${GUNICORN_ARGS[@]}" 'app:create_app()'
fi

if ! id -u "$WEB_USER" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$WEB_USER"
fi
# setpriv execs in place (runuser would leave a root parent behind); no capabilities at all,
# not even in the bounding set, and no_new_privs: nothing the web tier runs can become root.
as_web=(setpriv --reuid="$WEB_USER" --regid="$WEB_USER" --init-groups --no-new-privs
    --inh-caps=-all --bounding-set=-all --)
if ! "${as_web[@]}" test -r app.py; then
    echo "make run: $WEB_USER cannot read $(pwd); clone the project into a folder other users" \
        "can read (not under /root), or set WEB_USER." >&2
    exit 1
fi
# The web user needs an interpreter it may execute: ours may live under /root (mode 700).
WEB_VENV=$VENV
if ! "${as_web[@]}" "$VENV/bin/python" -c "import flask" >/dev/null 2>&1; then
    WEB_VENV=.venv-web
    stamp="$WEB_VENV/.installed-$(sha256sum requirements.txt | cut -c1-16)"
    if [ ! -e "$stamp" ]; then
        rm -rf "$WEB_VENV"
        if ! "$SYSTEM_PYTHON" -m venv "$WEB_VENV" 2>/dev/null; then
            rm -rf "$WEB_VENV"
            apt-get update -qq && apt-get install -y -qq python3-venv
            "$SYSTEM_PYTHON" -m venv "$WEB_VENV"
        fi
        "$WEB_VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt
        touch "$stamp"
    fi
    chmod -R a+rX "$WEB_VENV"
fi
mkdir -p instance
chown -R "$WEB_USER:$WEB_USER" instance
chmod 700 instance

# The operator's settings (SECRET_KEY, DATABASE_URL, ...) pass through; HOME is not root's.
export HOME=/nonexistent
if [ -n "${GRADER_BROKER_URL:-}" ]; then
    # Scaled out (README "Scaling out"): grader workers grade, this machine serves pages only.
    "${as_web[@]}" "$WEB_VENV/bin/flask" --app app db upgrade
    "${as_web[@]}" "$WEB_VENV/bin/flask" --app app content sync
    exec "${as_web[@]}" "$WEB_VENV/bin/gunicorn" "${GUNICORN_ARGS[@]}" --no-control-socket \
        'app:create_app()'
fi

# One grader per checkout: its socket in a root-owned folder, group WEB_USER, mode 0660.
run_dir=/run/mlquiz-grader-$(pwd | sha256sum | cut -c1-12)
mkdir -p "$run_dir"
chmod 755 "$run_dir"
socket_path=$run_dir/grader.sock
env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$VENV/bin/python" -m engine.sandbox.service \
    --socket "$socket_path" --group "$WEB_USER" &
grader=$!
trap 'kill "$grader" 2>/dev/null; wait "$grader" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do
    [ -S "$socket_path" ] && break
    kill -0 "$grader" || { echo "make run: the grader service did not start" >&2; exit 1; }
    sleep 0.1
done

export GRADER_SOCKET="$socket_path"
"${as_web[@]}" "$WEB_VENV/bin/flask" --app app db upgrade
"${as_web[@]}" "$WEB_VENV/bin/flask" --app app content sync
"${as_web[@]}" "$WEB_VENV/bin/gunicorn" "${GUNICORN_ARGS[@]}" --no-control-socket 'app:create_app()'
