#!/usr/bin/env bash
# Run svy-tab --calibrated-to on every case of tests/ref/cal-cases.csv and
# compare each number with R's rake()/postStratify() designs
# (tests/ref/cal-api.csv, from cal-api.R) to 1e-9 relative: estimate, se,
# Wald interval, df, deff.
set -eu
ref="$SRC/tests/ref"
total=0
while IFS=, read -r id data args; do
  [ "$id" = id ] && continue
  eval "a=($args)"
  svy-tab -q -w wc -b stype --overall --ci wald -r comp_imp --mean api00 --total enroll --share awards \
    --ratio api_stu/enroll "${a[@]}" "$DATA/$data.csv" > out.csv
  grep -q 'Calibration-aware variance' out.csv || { echo "$id: no calibration in the method" >&2; exit 1; }
  n=$(awk -F, -v id="$id" '
    function bad(what) { printf "%s %s %s: %s ours=%s R=%s\n", id, dom, var, what, o, r > "/dev/stderr"; fail = 1 }
    NR == FNR { if (FNR == 1) next; d = ($1 == "" ? "(all)" : $1); ours[d "," $2] = $0; next }
    FNR == 1 || $1 != id { next }
    { dom = $2; var = $3; key = dom "," var
      if (!(key in ours)) { o = ""; r = ""; bad("no row"); next }
      split(ours[key], f, ",")
      for (j = 0; j < 6; j++) {
        o = f[4 + j]; r = $(5 + j)
        if (o == r || r == "NA") continue
        if (o == "" || r == "") { bad("missing"); continue }
        d = o - r; if (d < 0) d = -d; s = (r < 0 ? -r : r)
        if (d > 1e-9 * s) bad("differs")
      }
      c++ }
    END { if (fail) exit 1; print c + 0 }' out.csv "$ref/cal-api.csv")
  total=$((total + n))
done < "$ref/cal-cases.csv"
rows=$(($(wc -l < "$ref/cal-api.csv") - 1))
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R calibration reference rows agree"
