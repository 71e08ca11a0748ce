#!/bin/sh
# svy-weight --replicates bootstrap:100 against R (as.svrepdesign(type =
# "bootstrap", replicates = 100) + rake() + write.csv) in the same run, on the
# "real" weighting data (gen-weight real ROWS: strata province, PSUs city),
# raked to province and gender x category; R gets svy-weight's number of sweeps.
# Also svy-weight with every replicate trimmed (--trim $TRIM, default
# 0.2x,4x: bounds from each replicate's own mean, rounds of trimming and
# raking), and the plain run without replicates.  R has no trimmed run: its
# trimWeights() on a replicate design is broken (tests/ref/weight-rep-trim.R).
# CPU (user+sys), wall and peak memory from GNU time; the load average is
# printed beside each size (the machine is shared: CPU is the figure to read).
# Usage: bench/weight-rep.sh [BUILD_DIR]   (env: SIZES="100000", R_SIZES=$SIZES, TRIM)
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tool="$here/$build/tools/svy-weight"
[ -x "$tool" ] || { echo "bench/weight-rep.sh: build first (no $tool)" >&2; exit 1; }
work=${TMPDIR:-/tmp}/svy-bench-weight-rep
mkdir -p "$work/real"
cc -O2 -o "$work/gen-weight" "$here/bench/gen-weight.c" -lm
"$work/gen-weight" real-margins "$work/real"
SIZES=${SIZES:-100000}
R_SIZES=${R_SIZES-$SIZES}
TRIM=${TRIM:-0.2x,4x}
m="-m $work/real/province.csv -m $work/real/gender_category.csv"
t() { /usr/bin/time -f "%e %U %S %M" "$@" 2> "$work/t.txt" > /dev/null; tail -1 "$work/t.txt" | awk '{printf "wall %.2f s, cpu %.2f s, %.1f MB\n", $1, $2 + $3, $4 / 1024}'; }
for n in $SIZES; do
  "$work/gen-weight" real "$n" > "$work/w.csv"
  k=$("$tool" -w wt $m "$work/w.csv" 2>&1 > /dev/null | awk '/raking iterations/ {print $NF}')
  echo "rows $n, $k sweeps; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  svy-weight plain:         $(t "$tool" -q -w wt $m "$work/w.csv")"
  echo "  svy-weight:               $(t "$tool" -q -w wt $m --replicates bootstrap:100 --strata province --psu city "$work/w.csv")"
  echo "  svy-weight --trim $TRIM: $(t "$tool" -q -w wt $m --trim "$TRIM" --replicates bootstrap:100 --strata province --psu city "$work/w.csv")"
  case " $R_SIZES " in *" $n "*) echo "  R:                        $(t Rscript "$here/bench/weight-rep.R" "$work/w.csv" "$work/real" "$k")";; esac
done
