#!/usr/bin/env bash
# Kill loop: runs the real `renewal ingest imd` and `renewal refresh` (each publish also expires
# a version: --keep 2) on the bundled sample and kills them with SIGKILL, at random moments
# and at every named crash point (RENEWAL_CRASH_AT, see renewal_warehouse::CRASH_POINTS).
# After every kill it checks that:
#   - the warehouse opens and `renewal warehouse list` lists the dataset;
#   - `renewal warehouse verify` finds every file every manifest names intact;
#   - the current version is the old one or the new one, by its sources' SHA-256 (computed
#     here with sha256sum) - and, at a named point, exactly the one that point implies;
#   - `renewal summary` answers exactly as a clean warehouse built from that version's files
#     (the two sample seeds give different figures, so an orphan read would show);
#   - a rerun of the killed command succeeds (a killed refresh left no lock) and makes the
#     new version current.
# Usage: scripts/reliability/kill-loop.sh [RANDOM_KILLS (default 120)] [TARGETED_ROUNDS (2)]
# Environment: KILL_LOOP_DIR (work directory, default a fresh temp dir), KILL_LOOP_SEED.
set -euo pipefail
cd "$(dirname "$0")/../.."
RANDOM_KILLS="${1:-120}"
ROUNDS="${2:-2}"
RANDOM="${KILL_LOOP_SEED:-11}"
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR
WORK="${KILL_LOOP_DIR:-$(mktemp -d)}"
mkdir -p "$WORK"
echo "== kill loop in $WORK (random kills: $RANDOM_KILLS, targeted rounds: $ROUNDS)"

cargo build --locked -q -p renewal-cli
# A private copy: the shared target directory's binary may be rebuilt by someone else meanwhile.
cp "$CARGO_TARGET_DIR/debug/renewal" "$WORK/renewal"
BIN="$WORK/renewal"
"$BIN" warehouse verify --help >/dev/null || { echo "the binary has no 'warehouse verify'" >&2; exit 2; }
unset RENEWAL_CRASH_AT RENEWAL_LOG RENEWAL_SCHEMAS
WH="$WORK/warehouse"
r() { "$BIN" --warehouse "$WH" "$@"; }

POINTS=()
while IFS= read -r p; do POINTS+=("$p"); done < <(
  sed -n '/^pub const CRASH_POINTS/,/^];/p' crates/renewal-warehouse/src/crash.rs | grep -o '^    "[a-z-]*"' | tr -d ' "')
[ "${#POINTS[@]}" -ge 10 ] || { echo "could not read the crash points" >&2; exit 2; }

declare -A REF HASHES
for s in 1 7; do
  "$BIN" sample --out "$WORK/sample-$s" --seed "$s" >/dev/null
  "$BIN" --warehouse "$WORK/clean-$s" ingest imd --vintage 2019 "$WORK/sample-$s"/File_* >/dev/null
  REF[$s]="$("$BIN" --warehouse "$WORK/clean-$s" summary --vintage 2019 --level lad 2>/dev/null)"
  HASHES[$s]="$(sha256sum "$WORK/sample-$s"/File_* | cut -d' ' -f1 | sort | tr '\n' ' ')"
done
[ "${REF[1]}" != "${REF[7]}" ] || { echo "the two seeds give the same summary" >&2; exit 2; }

cat > "$WORK/sources.toml" <<TOML
[[dataset]]
id = "iod-2019"
kind = "imd"
vintage = "2019"
location = "src/File_*"
keep = 2

[[dataset]]
id = "lookup-lsoa11-wd19"
kind = "lookup"
location = "src/Lower_Layer_Super_Output_Area_*.csv"
keep = 2
TOML

# The seed whose files the current iod-2019 version was built from, by source hashes.
current_seed() {
  local h
  h="$(r warehouse list --dataset iod-2019 --json | python3 -c \
    'import json,sys; print(" ".join(sorted(s["sha256"] for s in json.load(sys.stdin)[0]["sources"])) + " ")')"
  for s in 1 7; do [ "$h" = "${HASHES[$s]}" ] && { echo "$s"; return; }; done
  echo "?"
}

# The command line of an operation publishing seed $2, in CMD (for refresh, the sources
# are pointed at that seed's files first).
op_cmd() { # op seed
  case $1 in
    ingest) CMD=("$BIN" --warehouse "$WH" ingest imd --vintage 2019 --keep 2 "$WORK/sample-$2"/File_*) ;;
    refresh) ln -sfn "sample-$2" "$WORK/src"; CMD=("$BIN" --warehouse "$WH" refresh --sources "$WORK/sources.toml") ;;
  esac
}
run_op() { # op seed [VAR=value...]
  local op=$1 seed=$2; shift 2
  op_cmd "$op" "$seed"
  env "$@" "${CMD[@]}"
}

fail() { echo "FAILED after kill $KILLS ($*)" >&2; echo "work directory kept: $WORK" >&2; exit 1; }

# Starting state: two versions, so every publish also expires one.
run_op ingest 1 >/dev/null
run_op ingest 7 >/dev/null
CUR=7
KILLS=0; RANDOM_DONE=0; FINISHED_FIRST=0; SAW_OLD=0; SAW_NEW=0; MAX_ORPHANS=0
declare -A COVERED

check_after_kill() { # what old new expected(old|new|either)
  local what=$1 old=$2 new=$3 expect=$4 out seed summary orphans
  r warehouse list >/dev/null 2>&1 || fail "$what: warehouse list failed"
  out="$(r warehouse verify)" || fail "$what: verify: $out"
  orphans="$(sed -n 's/.*problems, \([0-9]*\) orphans.*/\1/p' <<<"$out" | head -1)"
  [ "${orphans:-0}" -gt "$MAX_ORPHANS" ] && MAX_ORPHANS=$orphans
  seed="$(current_seed)"
  summary="$(r summary --vintage 2019 --level lad 2>/dev/null)" || fail "$what: summary failed"
  case "$seed" in
    "$old") [ "$expect" != new ] || fail "$what: old version current after the switch"; SAW_OLD=$((SAW_OLD + 1)) ;;
    "$new") [ "$expect" != old ] || fail "$what: new version current before the switch"; SAW_NEW=$((SAW_NEW + 1)) ;;
    *) fail "$what: current version's sources are neither the old nor the new files" ;;
  esac
  [ "$summary" = "${REF[$seed]}" ] || fail "$what: summary differs from a clean warehouse's for seed $seed"
  # A rerun succeeds and publishes the new files.
  run_op "$OP" "$new" >/dev/null 2>"$WORK/rerun.err" || fail "$what: rerun failed: $(cat "$WORK/rerun.err")"
  [ "$(current_seed)" = "$new" ] || fail "$what: rerun did not make the new version current"
  [ "$(r summary --vintage 2019 --level lad 2>/dev/null)" = "${REF[$new]}" ] || fail "$what: summary after rerun"
  r warehouse verify >/dev/null || fail "$what: verify after rerun"
}

now_ns() { date +%s%N; }
# Calibrate: how long each operation takes here, so random delays span all of it.
declare -A DUR
for op in ingest refresh; do
  total=0
  for _ in 1 2 3; do
    new=$((CUR == 1 ? 7 : 1)); t0=$(now_ns); OP=$op; run_op "$op" "$new" >/dev/null; t1=$(now_ns)
    total=$((total + t1 - t0)); CUR=$new
  done
  DUR[$op]=$((total / 3))
  echo "   $op takes about $((DUR[$op] / 1000000)) ms"
done

echo "== targeted kills at named crash points"
for ((round = 1; round <= ROUNDS; round++)); do
  for OP in ingest refresh; do
    for i in "${!POINTS[@]}"; do
      point=${POINTS[$i]}
      [ "$OP" = ingest ] && [[ $point == refresh-* ]] && continue
      new=$((CUR == 1 ? 7 : 1))
      set +e; run_op "$OP" "$new" RENEWAL_CRASH_AT="$point" >/dev/null 2>&1; status=$?; set -e
      [ "$status" = 137 ] || fail "$OP at $point: exit status $status, not killed (point not reached?)"
      KILLS=$((KILLS + 1)); COVERED["$OP:$point"]=1
      # Points before the switch leave the old version, from the switch on the new one.
      expect=new
      case $point in refresh-locked|publish-begin|data-table-written|data-synced|manifest-staged) expect=old ;; esac
      check_after_kill "$OP at $point" "$CUR" "$new" "$expect"
      CUR=$new
    done
  done
done

echo "== random kills"
attempts=0
while [ "$RANDOM_DONE" -lt "$RANDOM_KILLS" ]; do
  attempts=$((attempts + 1))
  [ "$attempts" -le $((RANDOM_KILLS * 4)) ] || fail "too many runs finished before their kill"
  OP=$([ $((RANDOM % 2)) = 0 ] && echo ingest || echo refresh)
  new=$((CUR == 1 ? 7 : 1))
  delay=$(( (RANDOM * 32768 + RANDOM) % (DUR[$OP] * 12 / 10) ))
  op_cmd "$OP" "$new"
  set +e
  # The background process is renewal itself (no subshell in between), so the kill hits it.
  "${CMD[@]}" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%09d' $((delay / 1000000000)) $((delay % 1000000000)))"
  kill -9 "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null; status=$?
  set -e
  if [ "$status" = 137 ]; then
    KILLS=$((KILLS + 1)); RANDOM_DONE=$((RANDOM_DONE + 1))
    check_after_kill "$OP killed after $((delay / 1000000)) ms" "$CUR" "$new" either
  elif [ "$status" = 0 ]; then
    FINISHED_FIRST=$((FINISHED_FIRST + 1))
    [ "$(current_seed)" = "$new" ] || fail "$OP finished but the new version is not current"
  else
    fail "$OP exited $status without being killed"
  fi
  CUR=$new
done

echo "== survived $KILLS kills: $((KILLS - RANDOM_DONE)) at named points (${#COVERED[@]} distinct op:point pairs), $RANDOM_DONE at random moments ($FINISHED_FIRST more runs finished before their kill)"
echo "   after the kills: old version current $SAW_OLD times, new version $SAW_NEW times; at most $MAX_ORPHANS orphan files (never read)"
echo "   points: ${!COVERED[*]}"
final="$(r warehouse verify)" || fail "final verify"
echo "   finally: ${final%%$'\n'*}"
