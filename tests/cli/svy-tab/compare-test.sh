#!/usr/bin/env bash
# svy-tab --test against R's svychisq (tests/ref/issue15-tab.csv, rows
# test_f and test_chisq): statistic, ndf, ddf and p-value to 1e-8 relative.
set -eu
ref="$SRC/tests/ref/issue15-tab.csv"
total=0
for id in $(awk -F'","' '$10 ~ /^test_/ { print substr($1, 2) }' "$ref" | sort -u); do
  IFS='|' read -r data strata psu weight fpc by var < <(awk -F'","' -v id="$id" \
    'substr($1, 2) == id { print $2 "|" $3 "|" $4 "|" $5 "|" $6 "|" $8 "|" $11; exit }' "$ref")
  a=()
  [ -n "$strata" ] && a+=(-s "${strata// /,}"); [ -n "$psu" ] && a+=(-p "${psu// /,}")
  [ -n "$weight" ] && a+=(-w "$weight"); [ -n "$fpc" ] && a+=(--fpc "${fpc// /,}")
  if [ "$var" = sch_wide ]; then a+=(-r "$var"); else a+=(--share "$var"); fi
  for m in f chisq; do
    svy-tab "${a[@]}" -b "$by" --test "$by" --test-method "$m" "$DATA/$data.csv" > out.csv
    n=$(awk -F, -v id="$id" -v m="$m" '
      function strip(s) { gsub(/"/, "", s); return s }
      function chk(o, r, what) { d = o - r; if (d < 0) d = -d; s = r < 0 ? -r : r
        if (o == "" || d > 1e-8 * s) { printf "%s %s %s: ours=%s R=%s\n", id, m, what, o, r > "/dev/stderr"; bad = 1 } }
      NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) c[$i] = i; next }
        ours[$c["variable"]] = $0; next }
      { n = split($0, f, "\",\""); for (i = 1; i <= n; i++) f[i] = strip(f[i]) }
      f[1] != id || f[10] != "test_" (m == "f" ? "f" : "chisq") { next }
      { if (!(f[11] in ours)) { print id, "no row" > "/dev/stderr"; bad = 1; next }
        split(ours[f[11]], g, ",")
        chk(g[c["statistic"]], f[13], "statistic")
        k = split(f[18], kv, " ")
        for (i = 1; i <= k; i++) { split(kv[i], p, "=")
          if (p[1] == "ndf" || p[1] == "df") chk(g[c["ndf"]], p[2], "ndf")
          if (p[1] == "ddf") chk(g[c["ddf"]], p[2], "ddf")
          if (p[1] == "p") chk(g[c["p_value"]], p[2], "p") }
        if (m == "chisq" && g[c["ddf"]] != "") { print id, "chisq has a ddf" > "/dev/stderr"; bad = 1 }
        cnt++ }
      END { if (bad) exit 1; print cnt + 0 }' out.csv "$ref")
    total=$((total + n))
  done
done
rows=$(awk -F'","' '$10 ~ /^test_/' "$ref" | wc -l)
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R test rows agree"
