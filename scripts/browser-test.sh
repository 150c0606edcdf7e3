#!/usr/bin/env bash
# The dashboard's end-to-end test in headless Chromium.
#
#   scripts/browser-test.sh            build the sample warehouse as scripts/demo.sh does (its
#                                      boundaries and target included), start the real
#                                      `renewal serve` on loopback with the HTTP feed and a keys
#                                      file holding one fresh key, and test the dashboard against
#                                      it with that key (what scripts/test.sh runs)
#   scripts/browser-test.sh BASE_URL   test a server already running (its HTTP feed on loopback,
#                                      e.g. http://127.0.0.1:8080, over the sample warehouse)
#
# Chromium comes from the distribution's packages (installed here when /usr/bin/chromium is
# missing; this runs as root on the project's machines), playwright-core from npm, pinned by
# tests/browser's package-lock.json. The browser is started with a fresh profile and no network
# beyond the server (tests/browser/dashboard.test.mjs). It saves docs/dashboard.png.
#
# Environment: RENEWAL_DASHBOARD_KEY (a bearer key, when the server wants one),
# RENEWAL_DASHBOARD_SCREENSHOT (where the 1280x900 screenshot goes; docs/dashboard.png),
# CHROMIUM (another Chromium binary). Exit status: non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_URL="${1:-}"

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "== installing Debian's chromium (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is missing and this is not root: install it with 'apt-get install -y chromium'" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y chromium
  }
fi
"${CHROMIUM:-/usr/bin/chromium}" --version

command -v node >/dev/null || { echo "node (20 or later) is needed for the browser test" >&2; exit 1; }
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "node $(node --version) is too old for playwright-core: 20 or later is needed" >&2
  exit 1
fi

# npm ci reinstalls from the lock file; skip it when node_modules already came from this very
# lock file, and let npm reuse its download cache otherwise.
LOCK_SUM="$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)"
STAMP=tests/browser/node_modules/.renewal-lock-sha256
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$LOCK_SUM" ]; then
  echo "== npm ci (tests/browser)"
  (cd tests/browser && npm ci --prefer-offline --no-audit --no-fund)
  echo "$LOCK_SUM" >"$STAMP"
fi

SERVER_PID=""
WORK=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
if [ -z "$BASE_URL" ]; then
  : "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
  export CARGO_TARGET_DIR
  WORK="$(mktemp -d)"
  echo "== the sample warehouse, as scripts/demo.sh builds it (log: $WORK/demo.log)"
  RENEWAL_WAREHOUSE="$WORK/warehouse" SAMPLE_DIR="$WORK/sample" RENEWAL_DEMO_NO_SERVER=1 \
    scripts/demo.sh >"$WORK/demo.log" 2>&1 || { tail -30 "$WORK/demo.log"; exit 1; }
  # Keys required, as a partner's server runs: the page's key handling is tested too (the
  # refusal without a key, the key typed in, the key kept out of the link). The key is made
  # here and lives only in this run's temporary directory.
  if [ -z "${RENEWAL_DASHBOARD_KEY:-}" ]; then
    RENEWAL_DASHBOARD_KEY="browser-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  fi
  export RENEWAL_DASHBOARD_KEY
  DIGEST="$(printf %s "$RENEWAL_DASHBOARD_KEY" | "$CARGO_TARGET_DIR/debug/renewal" hash-key -)"
  cat >"$WORK/keys.toml" <<KEYS
[[key]]
partner = "browser test"
sha256 = "$DIGEST"
authorities = []
datasets = []
KEYS
  # Port 0: the server picks free ports and prints them; the feed's line gives the base URL.
  "$CARGO_TARGET_DIR/debug/renewal" --warehouse "$WORK/warehouse" serve --keys "$WORK/keys.toml" \
    --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  # Bounded: the line is printed once the listeners are bound, or the server has exited.
  for _ in $(seq 1 600); do
    BASE_URL="$(sed -n 's|^renewal HTTP feed on \(http://[0-9.:]*\)/api/v1/.*|\1|p' "$WORK/serve.out")"
    [ -n "$BASE_URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; echo "renewal serve exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$BASE_URL" ] || { cat "$WORK/serve.err" >&2; echo "renewal serve printed no HTTP address" >&2; exit 1; }
fi

echo "== dashboard test against $BASE_URL"
node tests/browser/dashboard.test.mjs "$BASE_URL"
