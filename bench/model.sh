#!/bin/sh
# svy-model against R's svyglm (data.table::fread + svydesign + svyglm) on the
# same CSV, in the same run: a logistic model with 10 coefficients on a design
# of 31 strata and 1,250 PSUs, rows in survey order, varying weights, 3% of
# rows with a missing income.  Wall time, CPU time and peak memory from
# /usr/bin/time -v, and a check that coefficients and SEs agree (1e-8).
# Usage: bench/model.sh [BUILD_DIR]   (env: SIZES="100000 1000000", RUNS=3)
# Needs: .ci/bootstrap bench (R survey, data.table, GNU time).
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
model="$here/$build/tools/svy-model"
[ -x "$model" ] || { echo "bench/model.sh: build first (no $model)" >&2; exit 1; }
work=${TMPDIR:-/tmp}/svy-bench-model
mkdir -p "$work"
cc -O2 -o "$work/gen-model" "$here/bench/gen-model.c" -lm
SIZES=${SIZES:-"100000 1000000"}
RUNS=${RUNS:-3}
formula='pension ~ factor(category) + gender + age + factor(hukou) + income'

. "$here/bench/timing.sh"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo
echo "| rows | svy-model s | svy-model CPU s | svy-model MB | R s | R CPU s | R MB | R / svy-model (CPU) | max rel diff coef, se |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
  f="$work/model-$n.csv"
  [ -s "$f" ] || "$work/gen-model" "$n" > "$f"
  s=$(best "$model" -q -s province -p city -w weight --logit "$formula" "$f")
  r=$(measure Rscript "$here/bench/model.R" "$f" "$work/r-$n.csv")
  "$model" -q -s province -p city -w weight --logit "$formula" "$f" > "$work/svy-$n.csv"
  diff=$(awk -F, 'NR == FNR { if (FNR > 1) { e[FNR] = $2; s[FNR] = $3 }; next }
    FNR > 1 { for (k = 2; k <= 3; k++) { a = (k == 2 ? e[FNR] : s[FNR]); d = (a - $k) / $k; if (d < 0) d = -d; if (d > m) m = d }; c++ }
    END { printf "%.1e (%d terms)", m, c }' "$work/svy-$n.csv" "$work/r-$n.csv")
  ratio=$(awk -v a="$(f3 "$r")" -v b="$(f3 "$s")" 'BEGIN{printf "%.0f", a/b}')
  echo "| $n | $(f1 "$s") | $(f3 "$s") | $(f2 "$s") | $(f1 "$r") | $(f3 "$r") | $(f2 "$r") | $ratio | $diff |"
done
