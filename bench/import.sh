#!/bin/sh
# svy-import against the readstat command, same files, same run.
#
# Makes a 14-column survey file (ids, design variables, a weight, labelled
# codes, a date, an income with missing values, a town name) with N rows as
# CSV, converts it to .dta with svy-export, then times
#   readstat FILE.dta out.csv        (ReadStat's own converter)
#   svy-import FILE.dta -o out.csv
#   svy-import FILE.csv -o out.csv   (no readstat peer: it cannot read CSV)
# with wall time, CPU time (user + system) and peak memory (/usr/bin/time -v),
# the run with the least CPU time of REPS runs.  On a loaded machine the CPU
# time is the comparable figure.
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

# "wall cpu peak_kb" of the run with the least CPU time, of $reps runs
measure() {
  best="" wall="" mem=""
  r=0
  while [ $r -lt "$reps" ]; do
    # readstat will not overwrite an existing output (and exits 0)
    rm -f "$tmp/rs.csv" "$tmp/svy.csv" "$tmp/svy2.csv"
    /usr/bin/time -v "$@" > /dev/null 2> "$tmp/time" || { cat "$tmp/time" >&2; exit 1; }
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); t = 0; for (k = 1; k <= n; k++) t = t * 60 + p[k]; print t}' "$tmp/time")
    c=$(awk -F': ' '/User time|System time/ {t += $2} END {printf "%.2f", t}' "$tmp/time")
    m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    if [ -z "$best" ] || awk -v a="$c" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$c wall=$w mem=$m; fi
    r=$((r + 1))
  done
  echo "$wall $best $mem"
}

printf '%-10s %-28s %8s %8s %12s\n' rows command wall_s cpu_s peak_rss_kb
for n in "$@"; do
  make_csv "$n" > "$tmp/s.csv"
  "$tools/svy-export" "$tmp/s.csv" -o "$tmp/s.dta"
  set -- $(measure readstat "$tmp/s.dta" "$tmp/rs.csv"); rs_w=$1 rs_c=$2 rs_m=$3
  printf '%-10s %-28s %8s %8s %12s\n' "$n" "readstat s.dta out.csv" "$rs_w" "$rs_c" "$rs_m"
  set -- $(measure "$tools/svy-import" "$tmp/s.dta" -o "$tmp/svy.csv"); sv_w=$1 sv_c=$2 sv_m=$3
  printf '%-10s %-28s %8s %8s %12s\n' "$n" "svy-import s.dta -o out.csv" "$sv_w" "$sv_c" "$sv_m"
  set -- $(measure "$tools/svy-import" "$tmp/s.csv" -o "$tmp/svy2.csv")
  printf '%-10s %-28s %8s %8s %12s\n' "$n" "svy-import s.csv -o out.csv" "$1" "$2" "$3"
  printf '%-10s svy-import over readstat: %.2fx wall, %.2fx CPU; .dta %s bytes\n' "$n" \
    "$(awk -v a="$rs_w" -v b="$sv_w" 'BEGIN {print a / b}')" \
    "$(awk -v a="$rs_c" -v b="$sv_c" 'BEGIN {print a / b}')" "$(wc -c < "$tmp/s.dta")"
  rm -f "$tmp"/*.csv "$tmp"/*.dta
done
