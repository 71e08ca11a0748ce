#!/usr/bin/env bash
# svy-tab --diff against R (tests/ref/issue15-tab.csv, rows "difference":
# svyby(covmat = TRUE) + svycontrast, confint at the design's df): every
# estimate, SE, interval end, df and p-value to 1e-9 relative (p 1e-8).
set -eu
ref="$SRC/tests/ref/issue15-tab.csv"
total=0
cases=$(awk -F'","' '$10 == "difference" { print substr($1, 2) }' "$ref" | sort -u)
for id in $cases; do
  IFS='|' read -r data strata psu weight fpc by var < <(awk -F'","' -v id="$id" \
    'substr($1, 2) == id { print $2 "|" $3 "|" $4 "|" $5 "|" $6 "|" $8 "|" $11; exit }' "$ref")
  a=()
  [ -n "$strata" ] && a+=(-s "${strata// /,}"); [ -n "$psu" ] && a+=(-p "${psu// /,}")
  [ -n "$weight" ] && a+=(-w "$weight"); [ -n "$fpc" ] && a+=(--fpc "${fpc// /,}")
  case "$id" in
    *_total) a+=(--total "$var") ;;
    *schwide) a+=(-r "$var") ;;
    *) a+=(--mean "$var") ;;
  esac
  svy-tab "${a[@]}" -b "$by" --diff "$by" "$DATA/$data.csv" > out.csv
  n=$(awk -F, -v id="$id" '
    function strip(s) { gsub(/"/, "", s); return s }
    function bad(what) { printf "%s %s %s: ours=%s R=%s\n", id, dom, what, o, r > "/dev/stderr"; fail = 1 }
    function cmp(o_, r_, tol, what) { o = o_; r = r_; d = o - r; if (d < 0) d = -d; s = r < 0 ? -r : r
      if (o == "" || d > tol * s) bad(what) }
    NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) col[$i] = i; next }
      if ($col["statistic"] == "difference") ours[$1 "-" $col["reference"]] = $0; next }
    { n = split($0, f, "\",\""); for (i = 1; i <= n; i++) f[i] = strip(f[i]) }
    f[1] != id { next }
    { dom = f[9]
      if (!(dom in ours)) { o = ""; r = ""; bad("no row"); next }
      split(ours[dom], g, ",")
      cmp(g[col["estimate"]], f[13], 1e-9, "estimate"); cmp(g[col["se"]], f[14], 1e-9, "se")
      cmp(g[col["ci_low"]], f[15], 1e-9, "ci_low"); cmp(g[col["ci_high"]], f[16], 1e-9, "ci_high")
      cmp(g[col["df"]], f[17], 1e-9, "df"); p = f[18]; sub(/^p=/, "", p); cmp(g[col["p_value"]], p, 1e-8, "p")
      c++ }
    END { if (fail) exit 1; print c + 0 }' out.csv "$ref")
  total=$((total + n))
done
rows=$(awk -F'","' '$10 == "difference"' "$ref" | wc -l)
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R difference rows agree"
