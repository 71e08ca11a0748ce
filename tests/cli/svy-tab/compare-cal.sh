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
  n=$(awk -F, -v id="$id" -v na=skip -f "$SRC/tests/cli/svy-tab/cmp-estimates.awk" out.csv "$ref/cal-api.csv")
  total=$((total + n))
done < "$ref/cal-cases.csv"
rows=$(($(wc -l < "$ref/cal-api.csv") - 1))
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
# --diff stype (tests/ref/cal-diff.csv: R's svyratio(covmat = TRUE) + svycontrast)
ndiff=0
for id in $(awk -F, 'NR > 1 { print $1 }' "$ref/cal-diff.csv" | sort -u); do
  args=$(awk -F, -v id="$id" '$1 == id { sub(/^[^,]*,[^,]*,/, ""); print; exit }' "$ref/cal-cases.csv")
  eval "a=($args)"
  svy-tab -q -w wc -b stype --diff stype --mean api00 -r comp_imp "${a[@]}" "$DATA/$(awk -F, -v id="$id" \
    '$1 == id { print $2; exit }' "$ref/cal-cases.csv").csv" > out.csv
  n=$(awk -F, -v id="$id" '
    function bad(what) { printf "%s diff %s %s: %s ours=%s R=%s\n", id, l, v, what, o, r > "/dev/stderr"; fail = 1 }
    NR == FNR { if ($3 == "difference") ours[$1 "," $2] = $4 "," $5; next }
    FNR == 1 || $1 != id { next }
    { l = $2; v = $3
      if (!((l "," v) in ours)) { o = ""; r = ""; bad("no row"); next }
      split(ours[l "," v], f, ",")
      for (j = 1; j <= 2; j++) { o = f[j]; r = $(3 + j); d = o - r; if (d < 0) d = -d; s = r < 0 ? -r : r
        if (o == "" || d > 1e-9 * s) bad("differs") }
      c++ }
    END { if (fail) exit 1; print c + 0 }' out.csv "$ref/cal-diff.csv")
  ndiff=$((ndiff + n))
done
drows=$(($(wc -l < "$ref/cal-diff.csv") - 1))
[ "$ndiff" -eq "$drows" ] || { echo "compared $ndiff of $drows difference rows" >&2; exit 1; }
# The median's SE and the Rao-Scott test (tests/ref/cal-extra.csv) on strat_rake.
args=$(awk -F, '$1 == "strat_rake" { sub(/^[^,]*,[^,]*,/, ""); print; exit }' "$ref/cal-cases.csv")
eval "a=($args)"
svy-tab -q -w wc --median api00 "${a[@]}" "$DATA/cal-strat.csv" > q.csv
svy-tab -q -w wc -r comp_imp -b stype --test stype "${a[@]}" "$DATA/cal-strat.csv" > t.csv
awk -F, '
  function cmp(what, o, r) { d = o - r; if (d < 0) d = -d; s = r < 0 ? -r : r
    if (o == "" || d > 1e-9 * s) { printf "%s: ours=%s R=%s\n", what, o, r > "/dev/stderr"; fail = 1 } }
  FILENAME ~ /q.csv$/ && FNR == 2 { ours["median_se"] = $4 }
  FILENAME ~ /t.csv$/ && FNR == 2 { ours["chisq_F"] = $3; ours["chisq_ndf"] = $4; ours["chisq_ddf"] = $5; ours["chisq_p"] = $6 }
  FILENAME ~ /cal-extra.csv$/ && FNR > 1 { cmp($1, ours[$1], $2) }
  END { exit fail }' q.csv t.csv "$ref/cal-extra.csv"
echo "all $total R calibration reference rows agree; all $ndiff difference rows agree; median SE and Rao-Scott test agree"
