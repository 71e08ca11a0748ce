#!/bin/sh
# svy-import against the readstat command, same files, same run.
#
# Makes a 14-column survey file (ids, design variables, a weight, labelled
# codes, a date, an income with missing values, a town name) with N rows as
# CSV, converts it to .dta with svy-export, then times
#   readstat FILE.dta out.csv        (ReadStat's own converter)
#   svy-import FILE.dta -o out.csv
#   svy-import FILE.csv -o out.csv   (no readstat peer: it cannot read CSV)
# with wall time and peak memory (/usr/bin/time -v), best of REPS runs.
#
# Usage: bench/import.sh [BUILD_DIR] [ROWS...]     (default: build 1000000 10000000)
# Needs: readstat, GNU time (.ci/bootstrap bench).  Scratch space: $TMPDIR
# (about 2 GB for 10M rows), removed at the end.
set -eu
build=${1:-build}
shift 2>/dev/null || true
[ $# -gt 0 ] || set -- 1000000 10000000
reps=${REPS:-3}
tools=$(cd "$build/tools" && pwd)
command -v readstat >/dev/null || { echo "bench: needs the readstat command (.ci/bootstrap bench)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (.ci/bootstrap bench)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/svy-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

make_csv() {
  awk -v n="$1" 'BEGIN {
    srand(20211);
    print "id,region,stratum,psu,weight,age,sex,income,educ,visit,q1,q2,q3,town";
    for (i = 1; i <= n; i++) {
      inc = rand() < 0.05 ? "" : sprintf("%.2f", exp(9 + 1.2 * rand()));
      printf "%d,%d,%d,%d,%.6f,%d,%d,%s,%d,%d,%d,%d,%d,town%d\n", i, 1 + int(rand() * 5),
        1 + int(rand() * 40), 1 + int(rand() * 400), 50 + 900 * rand(), 18 + int(rand() * 70),
        1 + int(rand() * 2), inc, 1 + int(rand() * 6), 22000 + int(rand() * 730),
        1 + int(rand() * 5), 1 + int(rand() * 5), 1 + int(rand() * 5), int(rand() * 2000)
    }
  }'
}

# best wall seconds and the peak RSS of that run, of $reps runs
measure() {
  best="" mem=""
  r=0
  while [ $r -lt "$reps" ]; do
    /usr/bin/time -v "$@" > /dev/null 2> "$tmp/time" || { cat "$tmp/time" >&2; exit 1; }
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); t = 0; for (k = 1; k <= n; k++) t = t * 60 + p[k]; print t}' "$tmp/time")
    m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$s mem=$m; fi
    r=$((r + 1))
  done
  echo "$best $mem"
}

printf '%-10s %-28s %10s %12s\n' rows command seconds peak_rss_kb
for n in "$@"; do
  make_csv "$n" > "$tmp/s.csv"
  "$tools/svy-export" "$tmp/s.csv" -o "$tmp/s.dta"
  set -- $(measure readstat "$tmp/s.dta" "$tmp/rs.csv"); rs_s=$1 rs_m=$2
  printf '%-10s %-28s %10s %12s\n' "$n" "readstat s.dta out.csv" "$rs_s" "$rs_m"
  set -- $(measure "$tools/svy-import" "$tmp/s.dta" -o "$tmp/svy.csv"); sv_s=$1 sv_m=$2
  printf '%-10s %-28s %10s %12s\n' "$n" "svy-import s.dta -o out.csv" "$sv_s" "$sv_m"
  set -- $(measure "$tools/svy-import" "$tmp/s.csv" -o "$tmp/svy2.csv"); sc_s=$1 sc_m=$2
  printf '%-10s %-28s %10s %12s\n' "$n" "svy-import s.csv -o out.csv" "$sc_s" "$sc_m"
  printf '%-10s speed-up over readstat: %.2fx; .dta size %s bytes\n' "$n" \
    "$(awk -v a="$rs_s" -v b="$sv_s" 'BEGIN {print a / b}')" "$(wc -c < "$tmp/s.dta")"
  rm -f "$tmp"/*.csv "$tmp"/*.dta
done
