#!/bin/sh
# Issue 15's speed targets: svy-tab's plain table against --diff, --test,
# --subpop and --quantile, and R doing the same (bench/tab15.R: svyby(covmat =
# TRUE) + svycontrast, svychisq within each domain, svyby on subset(), svyby
# (svyquantile)), in one run, on gen-tab's rows in survey order (shuffled) with
# an income column missing on 5% of rows (bench/add-income.awk).  Each line:
# svy-tab's least CPU of RUNS runs (its wall and peak RSS from that run), R
# once, and the largest relative difference between R's numbers and svy-tab's.
# CPU = user + sys from GNU time; the machine may be shared: CPU is the figure.
# Usage: bench/tab15.sh [BUILD_DIR]
#   env: SIZES="100000 1000000" (svy-tab), R_SIZES="1000000" (R), MODES, RUNS=5
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tab="$here/$build/tools/svy-tab"
[ -x "$tab" ] || { echo "bench/tab15.sh: build first (no $tab)" >&2; exit 1; }
work=${TMPDIR:-/tmp}/svy-bench-tab15
mkdir -p "$work"
cc -O2 -o "$work/gen-tab" "$here/bench/gen-tab.c"
SIZES=${SIZES:-"100000 1000000"}
R_SIZES=${R_SIZES-1000000}
MODES=${MODES:-"plain diff test subpop quantile"}
RUNS=${RUNS:-5}
base="-s province -p psu -w weight -b category,gender,province"
rates="-r y1,y2,y3,y4,y5,y6"
flags() {
  case $1 in
    plain) echo "$base $rates" ;;
    diff|diffall) echo "$base $rates --diff category" ;;
    test) echo "$base $rates --test category" ;;
    subpop) echo "$base $rates --subpop" ;; # + the expression, added by the caller
    quantile) echo "$base --quantile income" ;;
  esac
}
sub='income >= 3000 | gender == 2'
# one run: "wall cpu MB"
t() { /usr/bin/time -f "%e %U %S %M" "$@" 2> "$work/t.txt" > "$work/out.csv"; tail -1 "$work/t.txt" | awk '{printf "%.2f %.2f %.1f\n", $1, $2 + $3, $4 / 1024}'; }
svy() { # least CPU of RUNS: svy(mode, file)
  b=""
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2046
    if [ "$1" = subpop ]; then r=$(t "$tab" $(flags "$1") "$sub" "$2"); else r=$(t "$tab" $(flags "$1") "$2"); fi
    if [ -z "$b" ] || awk -v a="$(echo "$r" | cut -d' ' -f2)" -v c="$(echo "$b" | cut -d' ' -f2)" 'BEGIN{exit !(a<c)}'; then b=$r; fi
  done
  cp "$work/out.csv" "$work/svy-$1.csv"; echo "$b"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $(date -u '+%F %H:%M UTC')"
echo
echo "| rows | what | svy-tab CPU s | wall s | MB | R CPU s | wall s | MB | R / svy-tab (CPU) | vs plain (CPU) | max rel diff R vs svy-tab |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $SIZES; do
  f="$work/tabq-$n.csv"
  [ -s "$f" ] || "$work/gen-tab" "$n" 20211 shuffle | awk -f "$here/bench/add-income.awk" > "$f"
  pc=""
  for m in $MODES; do
    s=$(svy "$m" "$f"); sc=$(echo "$s" | cut -d' ' -f2)
    [ "$m" = plain ] && pc=$sc
    vp=$( [ -n "$pc" ] && awk -v a="$sc" -v b="$pc" 'BEGIN{printf "%.2f", a/b}' || echo "")
    rr="| (not run) | | |"; ratio=""; d=""
    case " $R_SIZES " in *" $n "*)
      r=$(t Rscript "$here/bench/tab15.R" "$m" "$f" "$work/r-$m.csv")
      rr="| $(echo "$r" | cut -d' ' -f2) | $(echo "$r" | cut -d' ' -f1) | $(echo "$r" | cut -d' ' -f3) |"
      ratio=$(awk -v a="$(echo "$r" | cut -d' ' -f2)" -v b="$sc" 'BEGIN{printf "%.0f", a/b}')
      d=$(awk -v mode="$m" -f "$here/bench/cmp15.awk" "$work/svy-$m.csv" "$work/r-$m.csv") ;;
    esac
    echo "| $n | $m | $sc | $(echo "$s" | cut -d' ' -f1) | $(echo "$s" | cut -d' ' -f3) $rr $ratio | $vp | $d |"
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
