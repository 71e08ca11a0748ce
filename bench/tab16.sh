#!/bin/sh
# Issue 16's speed targets, svy-tab and svy-weight beside R in one run.
# 1. svy-tab with 80 replicate weights (--repweights 'rw*' --reptype
#    bootstrap; rw1..rw80 multiply each PSU's rows by 0 or 2, bench/add-reps.awk)
#    on gen-tab's rows in survey order (shuffled), rates of y1..y6 by category x
#    gender x province, against R's svrepdesign(type = "bootstrap") + svyby
#    (bench/tab16.R); peak RSS at every size (memory flat in rows).
# 2. svy-weight making 100 bootstrap replicates and raking each (province,
#    gender x category) on gen-weight's "real" rows, against R's
#    as.svrepdesign(type = "bootstrap", replicates = 100) + rake
#    (bench/weight-rep.R).  The replicates are random draws on both sides
#    (different generators): the full-sample weights are compared row by row,
#    and each side's replicate province totals against the margin.
# CPU = user + sys from GNU time (the machine may be shared: CPU is the figure);
# svy-* least CPU of RUNS, R once.
# Usage: bench/tab16.sh [BUILD_DIR]
#   env: SIZES="100000 1000000", R_SIZES="100000 1000000", RUNS=3, PARTS="1 2",
#   BASE=DIR: part 1 also times DIR's svy-tab (a build of the base, e.g. main),
#   interleaved with BUILD_DIR's, and compares the two outputs byte for byte
set -eu
set -f # rw* is svy-tab's pattern, not the shell's
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tab="$here/$build/tools/svy-tab"; wt="$here/$build/tools/svy-weight"
if [ ! -x "$tab" ] || [ ! -x "$wt" ]; then echo "bench/tab16.sh: build first" >&2; exit 1; fi
work=${TMPDIR:-/tmp}/svy-bench-tab16
mkdir -p "$work/real"
cc -O2 -o "$work/gen-tab" "$here/bench/gen-tab.c"
cc -O2 -o "$work/gen-weight" "$here/bench/gen-weight.c" -lm
SIZES=${SIZES:-"100000 1000000"}
R_SIZES=${R_SIZES-$SIZES}
RUNS=${RUNS:-3}
PARTS=${PARTS:-"1 2"}
t() { /usr/bin/time -f "%e %U %S %M" "$@" 2> "$work/t.txt" > "$work/out.csv"; tail -1 "$work/t.txt" | awk '{printf "%.2f %.2f %.1f\n", $1, $2 + $3, $4 / 1024}'; }
least() { # least CPU of RUNS runs of a command; its output kept in $work/best.csv
  b=""
  for _ in $(seq "$RUNS"); do
    r=$(t "$@")
    if [ -z "$b" ] || awk -v a="$(echo "$r" | cut -d' ' -f2)" -v c="$(echo "$b" | cut -d' ' -f2)" 'BEGIN{exit !(a<c)}'; then b=$r; cp "$work/out.csv" "$work/best.csv"; fi
  done
  echo "$b"
}
c() { echo "$1" | cut -d' ' -f"$2"; }
base=${BASE:-}
if [ -n "$base" ] && [ ! -x "$base/tools/svy-tab" ]; then echo "bench/tab16.sh: no $base/tools/svy-tab" >&2; exit 1; fi
inR() { case " $R_SIZES " in *" $1 "*) return 0;; esac; return 1; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $(date -u '+%F %H:%M UTC')"
case " $PARTS " in *" 1 "*)
echo
echo "| rows | svy-tab CPU s | wall s | MB | R CPU s | wall s | MB | R / svy-tab (CPU) | max rel diff R vs svy-tab |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $SIZES; do
  f="$work/tabr-$n.csv"
  [ -s "$f" ] || "$work/gen-tab" "$n" 20211 shuffle | awk -v R=80 -f "$here/bench/add-reps.awk" > "$f"
  A="-w weight --repweights rw* --reptype bootstrap -b category,gender,province -r y1,y2,y3,y4,y5,y6"
  if [ -n "$base" ]; then # base and new alternate, RUNS times each
    sb=""; sn=""
    for _ in $(seq "$RUNS"); do
      rb=$(t "$base/tools/svy-tab" $A "$f"); cp "$work/out.csv" "$work/base-rep.csv"
      rn=$(t "$tab" $A "$f"); cp "$work/out.csv" "$work/svy-rep.csv"
      if [ -z "$sb" ] || awk -v a="$(c "$rb" 2)" -v b="$(c "$sb" 2)" 'BEGIN{exit !(a<b)}'; then sb=$rb; fi
      if [ -z "$sn" ] || awk -v a="$(c "$rn" 2)" -v b="$(c "$sn" 2)" 'BEGIN{exit !(a<b)}'; then sn=$rn; fi
    done
    s=$sn
    same=$(cmp -s "$work/base-rep.csv" "$work/svy-rep.csv" && echo "byte-identical" || echo "DIFFERENT")
    echo "base $base at $n rows: CPU $(c "$sb" 2) s, wall $(c "$sb" 1) s, $(c "$sb" 3) MB; output $same" >&2
  else
    s=$(least "$tab" $A "$f")
    cp "$work/best.csv" "$work/svy-rep.csv"
  fi
  rr="| (not run) | | | |"; d=""
  if inR "$n"; then
    r=$(t Rscript "$here/bench/tab16.R" "$f" "$work/r-rep.csv")
    rr="| $(c "$r" 2) | $(c "$r" 1) | $(c "$r" 3) | $(awk -v a="$(c "$r" 2)" -v b="$(c "$s" 2)" 'BEGIN{printf "%.0f", a/b}') |"
    d=$(awk -v mode=rep -f "$here/bench/cmp15.awk" "$work/svy-rep.csv" "$work/r-rep.csv")
  fi
  echo "| $n | $(c "$s" 2) | $(c "$s" 1) | $(c "$s" 3) $rr $d |"
done
;; esac
case " $PARTS " in *" 2 "*)
"$work/gen-weight" real-margins "$work/real"
m="-m $work/real/province.csv -m $work/real/gender_category.csv"
echo
echo "| rows | sweeps | svy-weight CPU s | wall s | MB | R CPU s | wall s | MB | R / svy-weight (CPU) | weight_final max rel diff | replicate province totals vs margin (svy, R) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $SIZES; do
  f="$work/w-$n.csv"
  [ -s "$f" ] || "$work/gen-weight" real "$n" > "$f"
  # shellcheck disable=SC2086
  k=$("$wt" -w wt $m "$f" 2>&1 > /dev/null | awk '/raking iterations/ {print $NF}')
  # shellcheck disable=SC2086
  s=$(least "$wt" -q -w wt $m --replicates bootstrap:100 --strata province --psu city "$f")
  # replicate columns' province totals against the margin (province is column 2)
  sm=$(awk -F, 'NR==FNR { if (FNR > 1) tgt[$1] = $2; next }
    FNR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^weight_final_r/) { rc[++nr] = i }; next }
    { for (j = 1; j <= nr; j++) tot[$2, j] += $(rc[j]) }
    END { for (p in tgt) for (j = 1; j <= nr; j++) { d = tot[p, j] / tgt[p] - 1; if (d < 0) d = -d; if (d > m) m = d }; printf "%.1e", m }' \
    "$work/real/province.csv" "$work/best.csv")
  rr="| (not run) | | | |"; d=""; rm_=""
  if inR "$n"; then
    r=$(t Rscript "$here/bench/weight-rep.R" "$f" "$work/real" "$k" "$work/r-w.csv")
    rm_=$(grep -o 'max rel diff .*' "$work/out.csv" | cut -d' ' -f4)
    rr="| $(c "$r" 2) | $(c "$r" 1) | $(c "$r" 3) | $(awk -v a="$(c "$r" 2)" -v b="$(c "$s" 2)" 'BEGIN{printf "%.0f", a/b}') |"
    d=$(awk -F, 'NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == "weight_final") wc = i } else w[$1] = $wc; next }
      FNR > 1 { gsub(/"/, ""); x = (w[$1] - $2) / $2; if (x < 0) x = -x; if (x > m) m = x; n++ }
      END { printf "%.1e (%d rows)", m, n }' "$work/best.csv" "$work/r-w.csv")
  fi
  echo "| $n | $k | $(c "$s" 2) | $(c "$s" 1) | $(c "$s" 3) $rr $d | $sm, $rm_ |"
done
;; esac
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
