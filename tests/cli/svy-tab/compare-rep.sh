#!/usr/bin/env bash
# Run svy-tab on every replicate-weight case of tests/ref/rep-cases.csv and
# compare each number with R's (tests/ref/rep-api.csv, from rep-api.R) to
# 1e-9 relative: estimate, se, ci_low, ci_high (logit), df, deff.
set -eu
ref="$SRC/tests/ref"
total=0
while IFS=, read -r id data args; do
  [ "$id" = id ] && continue
  eval "a=($args)"
  svy-tab -q -w pw -b stype --overall -r sch_wide --mean api00 --total enroll --share awards "${a[@]}" \
    "$DATA/$data.csv" > out.csv
  n=$(awk -F, -v id="$id" -f "$SRC/tests/cli/svy-tab/cmp-estimates.awk" out.csv "$ref/rep-api.csv")
  total=$((total + n))
done < "$ref/rep-cases.csv"
rows=$(($(wc -l < "$ref/rep-api.csv") - 1))
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R replicate-weight reference rows agree"
