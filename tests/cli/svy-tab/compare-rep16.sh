#!/usr/bin/env bash
# svy-tab --diff, --ratio, --quantile and --test with replicate weights
# against R (tests/ref/rep16.csv, from rep-issue16.R: svyby(covmat = TRUE) +
# svycontrast, svyratio, svyquantile, svychisq on svrepdesign): every
# estimate, SE, interval end and df to 1e-9 relative, p-values and test
# statistics to 1e-8; an empty R value (an interval end R gives as NaN)
# must be empty in svy-tab's output too.
set -eu
ref="$SRC/tests/ref"
total=0
while IFS=, read -r id data args; do
  [ "$id" = id ] && continue
  eval "a=($args)"
  f="$DATA/$data.csv"
  {
    svy-tab -q -w pw -b stype --mean api00 --total enroll -r sch_wide --ratio api00/enroll --diff stype "${a[@]}" "$f" |
      awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $3 == "difference" { print "diff," $1 "," $2 "," $c["estimate"] "," $c["se"] "," $c["ci_low"] "," $c["ci_high"] "," $c["df"] "," $c["p_value"] }'
    svy-tab -q -w pw -b stype --overall --ratio api00/enroll "${a[@]}" "$f" |
      awk -F, 'NR > 1 { print "ratio," ($1 == "" ? "(all)" : $1) "," $2 "," $4 "," $5 "," $6 "," $7 "," $8 "," }'
    svy-tab -q -w pw -b stype --overall --quantile api00 --probs 0.25,0.5,0.75 "${a[@]}" "$f" |
      awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { print "quantile," ($1 == "" ? "(all)" : $1) "," $2 "@" $NF "," $4 "," $5 "," $6 "," $7 "," $8 "," }'
    for m in f chisq; do
      svy-tab -q -w pw -b stype -r sch_wide --share awards --test stype --test-method $m "${a[@]}" "$f" |
        awk -F, -v m=$m 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
          { print "test_" m ",," $c["variable"] "," $c["statistic"] "," $c["ndf"] ",,," $c["ddf"] "," $c["p_value"] }'
    done
    svy-tab -q -w pw -b sch_wide,stype --share awards --test stype "${a[@]}" "$f" |
      awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $1 == 1 { print "test_f_within," $1 "," $c["variable"] "," $c["statistic"] "," $c["ndf"] ",,," $c["ddf"] "," $c["p_value"] }'
  } > ours.csv
  n=$(awk -F, -v id="$id" '
    function bad(what) { printf "%s %s %s %s %s: ours=%s R=%s\n", id, run, dom, var, what, o, r > "/dev/stderr"; fail = 1 }
    NR == FNR { ours[$1 "," $2 "," $3] = $0; next }
    FNR == 1 || $1 != id { next }
    { run = $2; dom = $3; var = $4; key = run "," dom "," var
      if (!(key in ours)) { o = ""; r = ""; bad("no row"); next }
      split(ours[key], g, ",")
      for (j = 0; j < 6; j++) {
        o = g[4 + j]; r = $(5 + j)
        if (o == r) continue
        if (o == "" || r == "") { bad("missing"); continue }
        tol = (j == 5 || run ~ /^test/) ? 1e-8 : 1e-9
        d = o - r; if (d < 0) d = -d; s = (r < 0 ? -r : r)
        if (d > tol * s) bad("differs")
      }
      c++ }
    END { if (fail) exit 1; print c + 0 }' ours.csv "$ref/rep16.csv")
  total=$((total + n))
done < "$ref/rep16-cases.csv"
rows=$(($(wc -l < "$ref/rep16.csv") - 1))
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R replicate-weight rows of --diff, --ratio, --quantile and --test agree"
