#!/bin/sh
# svy-tab against R survey (data.table::fread + svydesign + svyby) on the same
# CSV, in the same run: wall time and peak memory from /usr/bin/time -v, and
# a check that both give the same estimates and SEs (1e-9 relative).  Then
# svy-tab alone on the two-stage design of the same file (PSUs, then
# respondents within them, an fpc for each) and on the same rows shuffled
# (files sorted by respondent, not by PSU).
# Usage: bench/tab.sh [BUILD_DIR]   (env: SIZES="100000 1000000", BIG=10000000, RUNS=3)
# Needs: .ci/bootstrap bench (R survey, data.table, GNU time).
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tab="$here/$build/tools/svy-tab"
[ -x "$tab" ] || { echo "bench/tab.sh: build first (no $tab)" >&2; exit 1; }
work=${TMPDIR:-/tmp}/svy-bench-tab
mkdir -p "$work"
cc -O2 -o "$work/gen-tab" "$here/bench/gen-tab.c"
SIZES=${SIZES:-"100000 1000000"}
BIG=${BIG-10000000}
RUNS=${RUNS:-3}
args="-s province -p psu -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"
args2="-s province -p psu,id --fpc fpc1,fpc2 -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"

. "$here/bench/timing.sh"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo
echo "| rows | svy-tab s | svy-tab CPU s | svy-tab MB | R s | R CPU s | R MB | R / svy-tab (wall) | max rel diff est, se |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
  f="$work/tab-$n.csv"
  [ -s "$f" ] || "$work/gen-tab" "$n" > "$f"
  s=$(best "$tab" $args "$f")
  r=$(measure Rscript "$here/bench/tab.R" "$f" "$work/r-$n.csv")
  # shellcheck disable=SC2086
  "$tab" $args "$f" > "$work/svy-$n.csv"
  diff=$(awk -F, 'NR==FNR { if (FNR>1) { est[$1","$2","$3","$4]=$6; se[$1","$2","$3","$4]=$7 } ; next }
    FNR==1 { for (i=1;i<=NF;i++) h[i]=$i; next }
    { for (j=1;j<=6;j++) { k=$1","$2","$3",y"j; for (i=1;i<=NF;i++) { if (h[i]=="y"j) re=$i; if (h[i]=="se.y"j || h[i]=="se"j) rs=$i }
        if (!(k in est)) { print "missing " k; exit 1 }
        d=(est[k]-re)/re; if (d<0) d=-d; if (d>m) m=d; d=(se[k]-rs)/rs; if (d<0) d=-d; if (d>m) m=d; c++ } }
    END { printf "%.1e (%d cells)", m, c }' "$work/svy-$n.csv" "$work/r-$n.csv")
  ratio=$(awk -v a="$(f1 "$r")" -v b="$(f1 "$s")" 'BEGIN{printf "%.0f", a/b}')
  echo "| $n | $(f1 "$s") | $(f3 "$s") | $(f2 "$s") | $(f1 "$r") | $(f3 "$r") | $(f2 "$r") | $ratio | $diff |"
done
echo
echo "| rows | design | rows in | svy-tab s | CPU s | MB |"
echo "|---:|---|---|---:|---:|---:|"
for n in $SIZES; do
  f="$work/tab-$n.csv"; fs="$work/tab-$n-shuf.csv"
  [ -s "$fs" ] || "$work/gen-tab" "$n" 20211 shuffle > "$fs"
  for d in one two; do
    a=$args; [ $d = two ] && a=$args2
    for g in sorted shuffled; do
      x=$f; [ $g = shuffled ] && x=$fs
      # shellcheck disable=SC2086
      s=$(best "$tab" $a "$x")
      echo "| $n | $d-stage | $g | $(f1 "$s") | $(f3 "$s") | $(f2 "$s") |"
    done
  done
done
if [ -n "$BIG" ]; then
  f="$work/tab-$BIG.csv"
  [ -s "$f" ] || "$work/gen-tab" "$BIG" > "$f"
  s=$(best "$tab" $args "$f")
  echo "| $BIG | $(f1 "$s") | $(f3 "$s") | $(f2 "$s") | (not run) | | | | |"
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
