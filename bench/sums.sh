#!/bin/sh
# The aggregate path (issue 18) timed beside the row run, in one run:
#  1. svy-tab on N rows of CSV (the row run);
#  2. --partial over SHARDS shards (rows in survey order, so shards split
#     PSUs), then --from-sums merging the SHARDS partial files (target: 100
#     shards merged in under 1 s);
#  3. SQLite: --sql sqlite | sqlite3 -csv -header | --from-sums - (the
#     engine's GROUP BY timed apart from the load).
# Every table is compared with the row run's to 1e-12 (tests/sums/csvcmp).
# Usage: bench/sums.sh [BUILD_DIR]  (env: N=1000000, SHARDS=100)
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tab="$here/$build/tools/svy-tab"
csvcmp="$here/$build/tests/csvcmp"
[ -x "$tab" ] && [ -x "$csvcmp" ] || { echo "bench/sums.sh: build first" >&2; exit 1; }
N=${N:-1000000} SHARDS=${SHARDS:-100}
work=${TMPDIR:-/tmp}/svy-bench-sums
mkdir -p "$work"
cc -O2 -o "$work/gen-tab" "$here/bench/gen-tab.c"
f="$work/tab-$N-shuffled.csv"
[ -s "$f" ] || "$work/gen-tab" "$N" 20211 shuffle > "$f"
args="-q -s province -p psu -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"

# CPU (user+sys) and wall seconds of one command (stdout to $out; its peak
# kB left in $work/t)
timed() {
  /usr/bin/time -f '%U %S %e %M' -o "$work/t" "$@" > "$out"
  awk '{ printf "%.2f CPU, %.2f wall", $1 + $2, $3 }' "$work/t"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $N rows, $SHARDS shards"
out="$work/row.out"
echo "row run:                $(timed "$tab" $args "$f")"

rm -rf "$work/shards" && mkdir -p "$work/shards"
body=$((N / SHARDS + 1))
tail -n +2 "$f" | split -l "$body" -d -a 3 - "$work/shards/s"
head -1 "$f" > "$work/hdr"
for s in "$work"/shards/s???; do cat "$work/hdr" "$s" > "$s.csv" && rm "$s"; done
start=$(date +%s.%N)
for s in "$work"/shards/s???.csv; do "$tab" $args --partial "$s" > "${s%.csv}.sums"; done
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "--partial, $SHARDS shards: $wall wall (one process after another)"
out="$work/part.out"
echo "--from-sums of $SHARDS:    $(timed "$tab" $args --from-sums "$work"/shards/s???.sums)"
"$csvcmp" "$work/row.out" "$work/part.out" && echo "  equal to the row run (1e-12)"
du -sh "$work/shards" | awk '{ print "  sums files and shards: " $1 }'
cat "$work"/shards/s???.sums | wc -c | awk '{ printf "  sums bytes: %d\n", $1 }'

if command -v sqlite3 >/dev/null 2>&1; then
  rm -f "$work/db"
  t0=$(date +%s.%N)
  sh "$here/tests/sums/sqlite-load" "$f" "$work/db" nsfe
  echo "sqlite load (not timed against): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s wall"
  "$tab" $args --sql sqlite --table nsfe > "$work/q.sql"
  out="$work/q.csv"
  echo "sqlite3 query:          $(timed sqlite3 -csv -header "$work/db" < "$work/q.sql")"
  out="$work/sql.out"
  echo "--from-sums of it:      $(timed "$tab" $args --from-sums "$work/q.csv")"
  "$csvcmp" "$work/row.out" "$work/sql.out" && echo "  equal to the row run (1e-12)"
  echo "  query result: $(wc -l < "$work/q.csv") lines"
fi

# ClickHouse (BIG rows, default 10M): the query through clickhouse-client
# on a Distributed table over two local MergeTree shards ordered by
# (province, psu), against svy-tab reading the same rows as CSV; RUNS runs
# (default 3), interleaved.  Column types (CH_TYPES): "dba" (default) the
# types a registry's DBA gives (tests/sums/clickhouse-env's load ... dba:
# province, category, gender, y1..y6, fpc1 UInt8, psu UInt16, id and fpc2
# UInt32, weight Float64; no Nullable, as the file has no empty field;
# printed below), "float" every column Float64 (sessions 6-7).  Threads:
# CH_THREADS, a list (default "1 2"), each query run with max_threads N,
# N = 1 being this server's own default on this 2-core VM (shown below).
# The server's CPU is read from /proc/PID/stat around each query (nothing
# else runs on this server), the client's and --from-sums' from time(1);
# the whole pipeline's wall (query, client, --from-sums) beside the row
# run's wall and CPU.  OLD_SQL=FILE: another query for the same flags (e.g.
# another build's --sql clickhouse) timed in the same runs.  R_BIG=1: R's
# svyby on the same BIG rows once (bench/tab.R; minutes and about 1.5 GB a
# million rows: off by default), its estimates and SEs against svy-tab's.
BIG=${BIG-10000000} RUNS=${RUNS:-3} CH_TYPES=${CH_TYPES:-dba} CH_THREADS=${CH_THREADS:-"1 2"}
if [ -n "$BIG" ] && command -v clickhouse-server >/dev/null 2>&1; then
  fb="$work/tab-$BIG-shuffled.csv"
  [ -s "$fb" ] || "$work/gen-tab" "$BIG" 20211 shuffle > "$fb"
  chwork=$(mktemp -d) rowbig="$work/rowbig.out"
  (
    work=$chwork src=$here
    . "$here/tests/sums/clickhouse-env"
    t0=$(date +%s.%N)
    load "$fb" nsfe "province, psu" "$([ "$CH_TYPES" = float ] || echo dba)"
    echo "clickhouse load (not timed against): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s wall"
    echo "  columns ($CH_TYPES): $cols"
    echo "  ClickHouse $(ch -q 'SELECT version()'), default max_threads $(ch -q "SELECT value FROM system.settings WHERE name = 'max_threads'")"
    "$tab" $args --sql clickhouse --table nsfe > "$chwork/q.sql"
    scpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$pid/stat"; }
    r=1
    while [ $r -le "$RUNS" ]; do
      out="$rowbig"
      echo "run $r, load $(cut -d' ' -f1 /proc/loadavg): row run, $BIG rows: $(timed "$tab" $args "$fb")"
      for q in "$chwork/q.sql" ${OLD_SQL:+"$OLD_SQL"}; do
        for th in $CH_THREADS; do
          c0=$(scpu) out="$chwork/q.csv" t0=$(date +%s.%N)
          cl=$(timed clickhouse-client --host 127.0.0.1 --port "$port" --format CSVWithNames --multiquery \
                 --max_threads "$th" < "$q")
          c1=$(scpu) out="$chwork/ch.out"
          fs=$(timed "$tab" $args --from-sums "$chwork/q.csv")
          wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
          echo "  clickhouse$([ "$q" = "$chwork/q.sql" ] || echo " (OLD_SQL)"), max_threads $th: server $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') CPU; client $cl; --from-sums $fs; pipeline $wall wall"
          "$csvcmp" "$rowbig" "$chwork/ch.out" > /dev/null || echo "  NOT equal to the row run (1e-12)"
        done
      done
      r=$((r + 1))
    done
    "$csvcmp" "$rowbig" "$chwork/ch.out" && echo "  equal to the row run (1e-12)"
  )
  if [ -n "${R_BIG:-}" ]; then
    out="$work/r-big.log"
    echo "R (bench/tab.R), $BIG rows: $(timed Rscript "$here/bench/tab.R" "$fb" "$work/r-big.csv"), $(awk '{ printf "%.0f MB", $4 / 1024 }' "$work/t")"
    awk -f "$here/bench/cmp-r.awk" "$rowbig" "$work/r-big.csv"
  fi
fi
