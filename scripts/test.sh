#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, then all unit, integration, end-to-end and
# conformance tests (the last compare against ../shared/data and skip loudly without it).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR

command -v python3 >/dev/null || {
  echo "python3 is required by the conformance tests (tests/reference/, standard library only)" >&2
  exit 1
}

# The gRPC interoperability test uses Python grpcio, installed here into a virtual environment
# of the project's own (never the system's), reused between runs.
PYENV="${RENEWAL_PYTHON_ENV:-$HOME/.cache/renewal-python}"
if ! "$PYENV/bin/python" -c "import grpc, grpc_reflection" 2>/dev/null; then
  echo "== installing grpcio into $PYENV"
  python3 -m venv "$PYENV"
  "$PYENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "grpcio>=1.60" "grpcio-reflection>=1.60" "protobuf>=4.25"
fi
export RENEWAL_PYTHON="$PYENV/bin/python"
export RENEWAL_REQUIRE_PYTHON_GRPC=1

# The Flight SQL interoperability test uses the ADBC Flight SQL driver (with pyarrow), in the
# same environment. It is required when pip can install it; if pip cannot, the test skips
# loudly instead of failing the run.
if ! "$PYENV/bin/python" -c "import adbc_driver_flightsql.dbapi, pyarrow" 2>/dev/null; then
  echo "== installing adbc-driver-flightsql and pyarrow into $PYENV"
  "$PYENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "adbc-driver-flightsql>=1.0" "pyarrow>=14" ||
    echo "WARNING: pip could not install adbc-driver-flightsql; the ADBC test will skip" >&2
fi
if "$PYENV/bin/python" -c "import adbc_driver_flightsql.dbapi, pyarrow" 2>/dev/null; then
  export RENEWAL_REQUIRE_PYTHON_ADBC=1
fi

# The HTTP feed's OpenAPI document is checked by an independent validator
# (openapi-spec-validator), in the same environment; required under CI.
if ! "$PYENV/bin/python" -c "import openapi_spec_validator" 2>/dev/null; then
  echo "== installing openapi-spec-validator into $PYENV"
  "$PYENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "openapi-spec-validator>=0.7"
fi
export RENEWAL_REQUIRE_PYTHON_OPENAPI=1

# XLSX answers are read back by an independent reader (openpyxl; the project itself reads
# workbooks with calamine), in the same environment; required under CI.
if ! "$PYENV/bin/python" -c "import openpyxl" 2>/dev/null; then
  echo "== installing openpyxl into $PYENV"
  "$PYENV/bin/python" -m pip install --quiet --disable-pip-version-check "openpyxl>=3.1"
fi
export RENEWAL_REQUIRE_PYTHON_OPENPYXL=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi

# The dashboard in headless Chromium against the real `renewal serve` on the sample warehouse
# (installs Debian's chromium and playwright-core from the lock file when missing).
echo "== dashboard in headless Chromium"
scripts/browser-test.sh
