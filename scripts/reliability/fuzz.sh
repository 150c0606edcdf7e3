#!/usr/bin/env bash
# Runs one fuzz target under afl.rs (stable toolchain) for SECONDS, niced, then prints its
# figures. Usage: scripts/reliability/fuzz.sh TARGET SECONDS
#   TARGET: table gzip xlsx number iod lookup benefits crime population manifest schema grpc
# Needs `cargo install cargo-afl` once (it builds AFL++ itself). Builds fuzz/ into its own
# target directory (instrumented artifacts must not mix with the workspace's). Work and
# findings go to fuzz/work/TARGET (ignored); a rerun resumes it. Crashes and hangs are listed at
# the end: copy each into tests/corpus/ as a case, and fix it.
set -euo pipefail
target=${1:?usage: fuzz.sh TARGET SECONDS}
seconds=${2:?usage: fuzz.sh TARGET SECONDS}
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=$root/tests/corpus
export CARGO_TARGET_DIR=${RENEWAL_FUZZ_TARGET_DIR:-$HOME/.cache/renewal-fuzz-target}
(cd "$root/fuzz" && nice -n 19 cargo afl build --profile fuzz --quiet)
bin=$CARGO_TARGET_DIR/fuzz/renewal-fuzz
work=$root/fuzz/work/$target
seeds=$work/seeds
mkdir -p "$seeds"

seed_files() { for f in "$@"; do [ -f "$f" ] && cp "$f" "$seeds/"; done; return 0; }
case $target in
  table) seed_files "$corpus"/structure/*.csv "$corpus"/encoding/*.csv "$corpus"/junk/ascii-noise.csv ;;
  gzip) seed_files "$corpus"/gzip/*.gz ;;
  xlsx) seed_files "$corpus"/xlsx/*.xlsx ;;
  number) for s in '29,199' '1296.00' '-0.532' '1.2E-05' 'NaN' '1,234,567.5' ' 7 '; do
            printf '%s' "$s" > "$seeds/n$(printf '%s' "$s" | cksum | cut -d' ' -f1)"; done ;;
  iod) seed_files "$corpus"/structure/*.csv "$corpus"/numbers/[^bp]*.csv "$corpus"/formula/iod-names.csv ;;
  lookup) seed_files "$corpus"/geography/*lookup*.csv "$corpus"/formula/lookup-ward-names.csv ;;
  benefits) seed_files "$corpus"/numbers/benefits-*.csv "$corpus"/vintage/benefits-*.csv "$corpus"/formula/benefits-names.csv ;;
  crime) seed_files "$corpus"/vintage/crime-*.csv "$corpus"/geography/crime-*.csv ;;
  population) seed_files "$corpus"/numbers/population-*.csv ;;
  manifest) for f in "$corpus"/manifest/*.json; do
              sed -e 's/corpus-prior/d/g' -e 's/"version":2/"version":1/' "$f" > "$seeds/$(basename "$f")"; done ;;
  schema) i=0
          # The first byte picks the folder (fuzz/src/main.rs): iod, iod-summary, observations,
          # crime, population, lookup, bridge, then indicators/ and editions.toml.
          for family in iod iod-summary observations crime population lookup bridge; do
            for f in "$root"/data-schemas/datasets/$family/*.toml; do
              { printf "\\x$(printf %02x $i)"; cat "$f"; } > "$seeds/$family-$(basename "$f")"; done
            i=$((i + 1)); done
          for f in "$root"/data-schemas/indicators/*.toml; do
            { printf '\x07'; cat "$f"; } > "$seeds/indicator-$(basename "$f")"; done
          { printf '\x08'; cat "$root/data-schemas/editions.toml"; } > "$seeds/editions.toml" ;;
  grpc) printf '\x0a\x09crime-all\x12\x09E08999001' > "$seeds/gap"
        printf '\x0a\x03abc\x10\x01\x1a\x02\x08\x01' > "$seeds/mixed"
        printf '\x08\x96\x01' > "$seeds/varint" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac

# No core-dump handler or CPU governor to set up here: AFL is told not to insist.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_AUTORESUME=1
export AFL_NO_AFFINITY=1 AFL_QUIET=1
start=$(date -u +%FT%TZ)
nice -n 19 cargo afl fuzz -V "$seconds" -t 5000 -i "$seeds" -o "$work/out" -- "$bin" "$target" \
  > "$work/afl.log" 2>&1 || { echo "afl exited $? (see $work/afl.log)"; tail -20 "$work/afl.log"; exit 1; }
stats=$work/out/default/fuzzer_stats
get() { awk -F': *' -v k="$1" '$1 ~ "^"k" *$" {print $2}' "$stats"; }
crashes=$(find "$work/out/default/crashes" -name 'id:*' | wc -l)
hangs=$(find "$work/out/default/hangs" -name 'id:*' | wc -l)
echo "fuzz $target: started $start, ran $(get run_time)s this session, $(get execs_done) execs" \
     "($(get execs_per_sec)/s), corpus $(get corpus_count), edges $(get edges_found)/$(get total_edges)," \
     "crashes $crashes, hangs $hangs"
find "$work/out/default/crashes" "$work/out/default/hangs" -name 'id:*' 2>/dev/null | head -20
