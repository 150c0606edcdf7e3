#!/usr/bin/env bash
# Runs every fuzz target in turn, one at a time, SECONDS each, appending each summary line to
# fuzz/work/summary.log. Usage: scripts/reliability/fuzz-all.sh SECONDS [TARGET...]
set -uo pipefail
seconds=${1:?usage: fuzz-all.sh SECONDS [TARGET...]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
targets=${*:-table gzip xlsx number iod lookup benefits crime population manifest schema grpc}
mkdir -p "$root/fuzz/work"
for t in $targets; do
  "$root/scripts/reliability/fuzz.sh" "$t" "$seconds" | tee -a "$root/fuzz/work/summary.log"
done
