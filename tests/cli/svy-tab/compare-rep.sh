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
  n=$(awk -F, -v id="$id" '
    function bad(what) { printf "%s %s %s: %s ours=%s R=%s\n", id, dom, var, what, o, r > "/dev/stderr"; fail = 1 }
    NR == FNR { if (FNR == 1) next; d = ($1 == "" ? "(all)" : $1); ours[d "," $2] = $0; next }
    FNR == 1 || $1 != id { next }
    { dom = $2; var = $3; key = dom "," var
      if (!(key in ours)) { o = ""; r = ""; bad("no row"); next }
      split(ours[key], f, ",")
      for (j = 0; j < 6; j++) {
        o = f[4 + j]; r = $(5 + j)
        if (o == r) continue
        if (o == "" || r == "" || r == "NA") { bad("missing"); continue }
        d = o - r; if (d < 0) d = -d; s = (r < 0 ? -r : r)
        if (d > 1e-9 * s) bad("differs")
      }
      c++ }
    END { if (fail) exit 1; print c + 0 }' out.csv "$ref/rep-api.csv")
  total=$((total + n))
done < "$ref/rep-cases.csv"
rows=$(($(wc -l < "$ref/rep-api.csv") - 1))
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R replicate-weight reference rows agree"
