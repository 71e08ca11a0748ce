#!/bin/sh
# Benchmark svy-clean on a 1M-row raw file built from the NSFE-2021 sample.
#
#   bench/clean.sh [BUILD_DIR] [ROWS]
#
# Throughput and peak memory (/usr/bin/time -v) of svy-clean with the full
# NSFE codebook, at ROWS and ROWS/10 rows, with and without the id rule (the
# duplicate check is the only state that grows: one entry per distinct id).
# A CSV pass-through in awk and in Python's csv module are the floors: the
# cost of reading and writing the same bytes without cleaning them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build}
rows=${2:-1000000}
clean="$build/tools/svy-clean"
out="$here/out"
mkdir -p "$out"
[ -x "$clean" ] || { echo "build first: $clean not found" >&2; exit 1; }

# Raw files: the sample's rows repeated with fresh ids (province code and
# sequence stay recognisable), so every kind of mess recurs at its rate and
# the 12 duplicates per copy stay duplicates within their copy only.
make_raw() {
  n=$1 f=$2
  [ -s "$f" ] && [ "$(($(wc -l < "$f") - 1))" -eq "$n" ] && return 0
  awk -v n="$n" -F, 'NR == 1 { print; next } { rows[++k] = $0 }
    END { c = 0
      for (rep = 0; c < n; rep++)
        for (i = 1; i <= k && c < n; i++) {
          line = rows[i]; p = index(line, ",")
          print (substr(line, 1, p - 1) + rep * 1000000) substr(line, p); c++ } }' \
    "$root/samples/nsfe-2021-raw.csv" > "$f"
}

# The same codebook without the id role: nothing grows with rows at all.
noid="$out/nsfe-noid"
rm -rf "$noid"; cp -r "$root/codebooks/nsfe-2021" "$noid"
# (the role column, the 10th, is a ;-list: "id;psu2" becomes "psu2")
awk 'BEGIN { FS = OFS = "," } $1 == "resp_id" { n = split($10, r, ";"); s = ""
  for (i = 1; i <= n; i++) if (r[i] != "id") s = s (s == "" ? "" : ";") r[i]; $10 = s } { print }' \
  "$root/codebooks/nsfe-2021/variables.csv" > "$noid/variables.csv"
awk -F, '$1 == "resp_id" && $10 ~ /(^|;)id(;|$)/ { bad = 1 } $1 == "resp_id" { seen = 1 } END { if (!seen || bad) exit 1 }' \
  "$noid/variables.csv" || { echo "could not drop the id role" >&2; exit 1; }

measure() { # label, command...
  label=$1; shift
  /usr/bin/time -v "$@" > /dev/null 2> "$out/time.txt" || { cat "$out/time.txt" >&2; exit 1; }
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$out/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$out/time.txt")
  kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time.txt")
  awk -v l="$label" -v n="$n" -v s="$secs" -v c="$cpu" -v kb="$kb" 'BEGIN {
    printf "%-42s %8s rows %7.2f s wall %7.2f s cpu %9.0f rows/cpu-s %7.1f MiB\n", l, n, s, c, (c > 0 ? n / c : 0), kb / 1024 }'
}

echo "svy-clean benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m), load $(cut -d' ' -f1 /proc/loadavg)"
for n in $((rows / 10)) "$rows"; do
  raw="$out/raw-$n.csv"
  make_raw "$n" "$raw"
  measure "svy-clean (NSFE codebook, keep_first ids)" "$clean" -q -c "$root/codebooks/nsfe-2021" "$raw"
  measure "svy-clean (NSFE codebook, no id rule)" "$clean" -q -c "$noid" "$raw"
  measure "svy-clean --log --rejects (audit trail)" "$clean" -q -c "$root/codebooks/nsfe-2021" --log "$out/log.csv" --rejects "$out/rej.csv" "$raw"
  measure "floor: awk CSV pass-through" awk '{ print }' "$raw"
  measure "floor: python3 csv reader+writer" python3 -c 'import csv,sys; w=csv.writer(sys.stdout); [w.writerow(r) for r in csv.reader(open(sys.argv[1], newline=""))]' "$raw"
done
echo "raw file size at $rows rows: $(du -h "$out/raw-$rows.csv" | cut -f1)"
