#!/bin/bash
# Runs svy-model on every case of tests/ref/model-cases.csv (R's api data,
# written by tests/ref/model-api.R) and compares each number it prints with
# R's (tests/ref/model-api.csv) to 1e-8 relative: coefficients (csv), the
# margins (--margins) and the Wald tests (--wald, one run per test).
# CASES=model-subpop-cases.csv REF=model-subpop.csv: the --subpop cases
# (tests/ref/model-subpop.R; their column subpop is given as --subpop).
# CASES=model-cal-cases.csv REF=model-cal.csv: the --calibrated-to cases
# (tests/ref/model-cal.R; column calibrated: margin files under tests/data).
set -euo pipefail
ref="$SRC/tests/ref/${REF:-model-api.csv}"
cases="$SRC/tests/ref/${CASES:-model-cases.csv}"
data="$SRC/tests/data/model"
fail=0 checked=0
# R's rows of one case and part, unquoted: term,estimate,se,stat,df,p,ci_low,ci_high
rrows() { tr -d '"' < "$ref" | awk -F, -v c="$1" -v p="$2" '$1 == c && $2 == p { print $3","$4","$5","$6","$7","$8","$9","$10 }'; }
# compare KEYED_OURS KEYED_R: both "key,n1,n2,..."; empty fields must be empty in both
compare() {
  awk -F, -v what="$3" 'NR == FNR { r[$1] = $0; next }
    { if (!($1 in r)) { print what ": no R value for " $1; bad = 1; next }
      n = split(r[$1], a, ","); split($0, b, ",")
      for (i = 2; i <= n; i++) {
        if (a[i] == "" && b[i] == "") continue
        if (a[i] == "" || b[i] == "") { print what " " $1 " field " i ": " b[i] " vs R " a[i]; bad = 1; continue }
        d = a[i] - b[i]; if (d < 0) d = -d; m = a[i]; if (m < 0) m = -m
        if (d > 1e-8 * m) { print what " " $1 " field " i ": " b[i] " vs R " a[i]; bad = 1 }
      }
      seen++ }
    END { if (seen == 0) { print what ": nothing compared"; bad = 1 } exit bad }' "$2" "$1" || fail=1
  checked=$((checked + 1))
}
while IFS=, read -r id dat weight strata psu fpc ultimate lonely family formula refv margins wald subpop subpop_r calibrated; do
  [ "$id" = id ] && continue
  args=(-q --"$family" --lonely "$lonely")
  [ -n "$weight" ] && args+=(-w "$weight")
  [ -n "$strata" ] && args+=(-s "${strata// /,}")
  [ -n "$psu" ] && args+=(-p "${psu// /,}")
  [ -n "$fpc" ] && args+=(--fpc "${fpc// /,}")
  [ "$ultimate" = 1 ] && args+=(--ultimate-cluster)
  [ -n "$refv" ] && args+=(--ref "$refv")
  [ -n "${subpop:-}" ] && args+=(--subpop "$subpop")
  for c in ${calibrated:-}; do args+=(--calibrated-to "$SRC/tests/data/$c"); done
  svy-model "${args[@]}" "$formula" "$data/$dat.csv" | tail -n +2 > ours.csv
  rrows "$id" coef | awk -F, '{ print $1","$2","$3","$4","$5","$6","$7","$8 }' > r.csv
  compare ours.csv r.csv "$id coef"
  if [ -n "$margins" ]; then
    svy-model "${args[@]}" --margins "$margins" "$formula" "$data/$dat.csv" | tail -n +2 > m.csv
    # VAR,variable,estimate,se,ci_low,ci_high,... | R margin: VAR=LEVEL,estimate,se,z,,,ci_low,ci_high
    awk -F, -v g="$margins" '{ print g "=" $1","$3","$4","$5","$6 }' m.csv > ours.csv
    rrows "$id" margin | awk -F, '{ print $1","$2","$3","$7","$8 }' > r.csv
    compare ours.csv r.csv "$id margin"
    awk -F, -v g="$margins" '$7 != "" { print g "=" $1","$7","$8","$9","$10","$11","$12 }' m.csv > ours.csv
    rrows "$id" diff | awk -F, '{ print $1","$2","$3","$4","$6","$7","$8 }' > r.csv
    compare ours.csv r.csv "$id difference"
  fi
  tests=()
  for w in $wald; do tests+=("$w"); done
  [ ${#tests[@]} -gt 1 ] && tests+=("$(echo $wald | tr ' ' ,)")
  for t in "${tests[@]+"${tests[@]}"}"; do
    # ours: terms,F,df_num,df_den,p_value,chisq (terms quoted when a list); R: case,wald,TERMS,F,df,,ddf,p,,
    svy-model "${args[@]}" --wald "$t" "$formula" "$data/$dat.csv" | tail -n +2 |
      awk -F, '{ print "t," $(NF-4) "," $(NF-3) "," $(NF-2) "," $(NF-1) }' > ours.csv
    tr -d '"' < "$ref" | awk -F, -v c="$id" -v t="$t" '$1 == c && $2 == "wald" {
        k = $3; for (i = 4; i <= NF - 7; i++) k = k "," $i
        if (k == t) print "t," $(NF-6) "," $(NF-5) "," $(NF-3) "," $(NF-2) }' > r.csv
    compare ours.csv r.csv "$id wald $t"
  done
done < "$cases"
[ "$fail" = 0 ] || exit 1
echo "R reference rows agree ($checked tables)"
