#!/usr/bin/env bash
# Take docs/watch-panel.png: a real replay on a stack of its own, watched in JupyterLab,
# screenshotted in headless Chromium. Everything started here is stopped on exit.
#
#   docs/screenshots/take.sh [OUT.png]
#
# Environment (defaults in brackets):
#   SHOT_EVENTS   events produced before the jobs start [10000000]; the replay must still
#                 be catching up ~20 s after `%kappa watch` shows the panel
#   SHOT_SETTLE_S seconds the panel refreshes before the screenshot [15]
#   KAPPANB_HOME  the stack's home, deleted and made afresh [/tmp/shot-home]
#   KAPPANB_*_PORT, SHOT_LAB_PORT  ports, chosen not to collide with a default stack
#   VENV          the Python venv with kappanb, jupyterlab, ipywidgets, anywidget [.venv]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/docs/watch-panel.png}")
VENV=${VENV:-$ROOT/.venv}
EVENTS=${SHOT_EVENTS:-10000000}
LAB_PORT=${SHOT_LAB_PORT:-18888}
TOKEN=shot
CHROMIUM=${SHOT_CHROMIUM:-/usr/bin/chromium}

export KAPPANB_HOME=${KAPPANB_HOME:-/tmp/shot-home}
export KAPPANB_KAFKA_PORT=${KAPPANB_KAFKA_PORT:-19092}
export KAPPANB_KAFKA_CONTROLLER_PORT=${KAPPANB_KAFKA_CONTROLLER_PORT:-19093}
export KAPPANB_FLINK_REST_PORT=${KAPPANB_FLINK_REST_PORT:-18081}
export KAPPANB_FLINK_RPC_PORT=${KAPPANB_FLINK_RPC_PORT:-16123}

say() { printf '[take.sh %s] %s\n' "$(date +%T)" "$*"; }

# ---- prerequisites ---------------------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
  say "installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium
fi
for tool in "$VENV/bin/python" "$VENV/bin/jupyter" "$VENV/bin/kappanb"; do
  [ -x "$tool" ] || { say "missing $tool (run scripts/demo or set VENV)"; exit 1; }
done
if ! "$VENV/bin/jupyter" labextension list 2>&1 | grep -q '@jupyter-widgets/jupyterlab-manager.*enabled'; then
  say "JupyterLab's widget extension is missing: install jupyterlab_widgets / ipywidgets>=8 in $VENV"
  exit 1
fi
(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error)

# ---- a fresh home (only one this script made, or none) ----------------------------------
if [ -e "$KAPPANB_HOME" ] && [ ! -e "$KAPPANB_HOME/.made-by-take-sh" ]; then
  say "$KAPPANB_HOME exists and was not made by take.sh; set KAPPANB_HOME to a new path"
  exit 1
fi
if [ -e "$KAPPANB_HOME" ]; then
  "$VENV/bin/kappanb" down >/dev/null 2>&1 || true
  rm -rf "$KAPPANB_HOME"
fi
mkdir -p "$KAPPANB_HOME" && touch "$KAPPANB_HOME/.made-by-take-sh"

WORK=$(mktemp -d /tmp/kappanb-shot.XXXXXX)
LAB_PID= NODE_PID=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  say "cleaning up (exit $rc)"
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null || true  # playwright closes its Chromium on SIGTERM
    wait "$NODE_PID" 2>/dev/null || true
  fi
  # A Chromium left behind would carry this run's profile dir on its command line.
  local left
  left=$(pgrep -f -- "--user-data-dir=$WORK/chromium" || true)
  [ -z "$left" ] || kill -TERM $left 2>/dev/null || true
  if [ -n "$LAB_PID" ] && kill -0 "$LAB_PID" 2>/dev/null; then
    # Shut the kernels down through the server (they run in sessions of their own).
    "$VENV/bin/python" - "$LAB_PORT" "$TOKEN" <<'PY' || true
import json, sys, urllib.request
base, token = f"http://127.0.0.1:{sys.argv[1]}/api/kernels", sys.argv[2]
head = {"Authorization": f"token {token}"}
for k in json.load(urllib.request.urlopen(urllib.request.Request(base, headers=head), timeout=10)):
    req = urllib.request.Request(f"{base}/{k['id']}", method="DELETE", headers=head)
    urllib.request.urlopen(req, timeout=30)
PY
    kill -TERM "$LAB_PID" 2>/dev/null || true
    wait "$LAB_PID" 2>/dev/null || true
  fi
  "$VENV/bin/kappanb" down 2>&1 | tail -n 1 || true
  if [ "$rc" = 0 ]; then rm -rf "$WORK"; else say "logs kept in $WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the notebook and JupyterLab ---------------------------------------------------------
mkdir -p "$WORK/root" "$WORK/settings/@jupyterlab/apputils-extension" "$WORK/workspaces"
"$VENV/bin/python" "$HERE/make_notebook.py" "$WORK/root/watch-panel.ipynb" "$EVENTS"
# No news/update notification over the notebook.
echo '{"fetchNews": "false", "checkForUpdates": false}' \
  >"$WORK/settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"

ROOT_FLAG=; [ "$(id -u)" != 0 ] || ROOT_FLAG=--allow-root
say "starting JupyterLab on 127.0.0.1:$LAB_PORT (log $WORK/lab.log)"
JUPYTERLAB_SETTINGS_DIR="$WORK/settings" JUPYTERLAB_WORKSPACES_DIR="$WORK/workspaces" \
JUPYTER_RUNTIME_DIR="$WORK/runtime" \
  "$VENV/bin/jupyter" lab --no-browser --ip=127.0.0.1 --port="$LAB_PORT" --port-retries=0 \
  --IdentityProvider.token="$TOKEN" --ServerApp.root_dir="$WORK/root" \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  --LabApp.extension_manager=readonly $ROOT_FLAG \
  >"$WORK/lab.log" 2>&1 &
LAB_PID=$!
for _ in $(seq 1 60); do
  "$VENV/bin/python" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$LAB_PORT/api/status?token=$TOKEN', timeout=2)" \
    2>/dev/null && break
  kill -0 "$LAB_PID" 2>/dev/null || { cat "$WORK/lab.log"; exit 1; }
  sleep 1
done

# ---- run it, in the browser -----------------------------------------------------------
say "running the notebook in headless Chromium ($EVENTS events)"
SHOT_LAB_URL="http://127.0.0.1:$LAB_PORT" SHOT_TOKEN="$TOKEN" SHOT_NOTEBOOK=watch-panel.ipynb \
SHOT_OUT="$OUT" SHOT_DEBUG_PNG="$WORK/failure.png" SHOT_PROFILE="$WORK/chromium" SHOT_CHROMIUM="$CHROMIUM" \
  node "$HERE/watch_panel.mjs" &
NODE_PID=$!
wait "$NODE_PID"
NODE_PID=
say "done: $OUT"
