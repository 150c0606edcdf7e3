#!/usr/bin/env bash
# The disclosure attacker of issue 11 §1 with many more random sequences than the normal test
# run (which tries 200): each builds a random small warehouse, issues 20–60 random questions
# and registrations as one partner, and solves exactly for every withheld count.
#
#   scripts/reliability/attacker.sh [CASES] [SEED_BASE]
#
# CASES defaults to 2000; SEED_BASE (default 0x5EED0000 + 1,000,000) is chosen away from the
# normal run's seeds so the sequences are new ones. Prints the line to record in
# docs/reliability.md and exits non-zero when a sequence recovered a withheld count (the
# failing seeds and derivations are printed above it; rerun one with ATTACKER_SEED=S).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR
CASES="${1:-2000}"
BASE="${2:-$((0x5EED0000 + 1000000))}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
ATTACKER_CASES="$CASES" ATTACKER_SEED_BASE="$BASE" \
    cargo test -p renewal-query --test it \
    attacker::no_sequence_of_questions_recovers_a_withheld_count -- --exact --nocapture \
    2>&1 | tee "$log" || status=$?
line="$(grep -m1 'attacker sequences tried' "$log" || echo 'attacker sequences tried: none (build or run failed)')"
echo
echo "$(date -u +%F) \`scripts/reliability/attacker.sh $CASES $BASE\`: $line"
exit "$status"
