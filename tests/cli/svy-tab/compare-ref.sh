#!/usr/bin/env bash
# Run svy-tab on every case of an R reference (tests/ref/tab-cases.csv and
# tab-api.csv by default; or the two files given) with every CI method and
# compare each number with R's to 1e-9 relative.
# Usage: compare-ref.sh [CASES.csv VALUES.csv]
set -eu
ref="$SRC/tests/ref"
cases=${1:-$ref/tab-cases.csv}
values=${2:-$ref/tab-api.csv}
total=0
while IFS=, read -r id data strata psu weight fpc by rates means totals shares lonely df level ultimate; do
  [ "$id" = id ] && continue
  a=(--lonely "$lonely" --df "$df" --level "$level")
  [ -n "$strata" ] && a+=(-s "${strata// /,}"); [ -n "$psu" ] && a+=(-p "${psu// /,}")
  [ -n "$weight" ] && a+=(-w "$weight"); [ -n "$fpc" ] && a+=(--fpc "${fpc// /,}")
  [ "${ultimate:-0}" = 1 ] && a+=(--ultimate-cluster)
  [ -n "$by" ] && a+=(-b "${by// /,}")
  [ -n "$rates" ] && a+=(-r "${rates// /,}"); [ -n "$means" ] && a+=(--mean "${means// /,}")
  [ -n "$totals" ] && a+=(--total "${totals// /,}"); [ -n "$shares" ] && a+=(--share "${shares// /,}")
  nby=0; [ -n "$by" ] && nby=$(wc -w <<< "$by")
  for m in logit wald beta wilson; do
    svy-tab "${a[@]}" --ci "$m" "$DATA/$data.csv" > out.csv
    n=$(awk -F, -v id="$id" -v m="$m" -v nby="$nby" '
      function num(s) { return (s == "Inf" || s == "inf") ? "inf" : s }
      function bad(what) { printf "%s %s %s %s %s: %s ours=%s R=%s\n", id, m, dom, var, kind, what, o, r > "/dev/stderr"; fail = 1 }
      NR == FNR { if (FNR == 1) next
        k = ""; for (i = 1; i <= nby; i++) k = k (i > 1 ? "|" : "") $i
        st = $(nby + 2); if (st == "share") st = "rate"
        ours[k "," $(nby + 1) "," st] = $0; next }
      FNR == 1 { next }
      $1 != id { next }
      $4 == "rate" && $5 != m { next }
      $4 != "rate" && m != "wald" { next }
      { dom = $2; var = $3; kind = $4; key = dom "," var "," kind
        if (!(key in ours)) { o = ""; r = ""; bad("no row"); next }
        split(ours[key], f, ",")
        deg = ($4 == "rate" && ($6 == 0 || $6 == 1))
        for (j = 0; j < 8; j++) {
          o = num(f[nby + 3 + j]); r = num($(6 + j))
          if (deg && m == "logit" && (j == 2 || j == 3)) { if (o != "") bad("interval at p=0/1"); continue }
          if (o == r) continue
          if (o == "" || r == "" || o == "inf" || r == "inf") { bad("missing"); continue }
          d = o - r; if (d < 0) d = -d; s = (r < 0 ? -r : r)
          if (d > 1e-9 * s) bad("differs")
        }
        c++ }
      END { if (fail) exit 1; print c + 0 }' out.csv "$values")
    total=$((total + n))
  done
done < "$cases"
rows=$(($(wc -l < "$values") - 1))
[ "$total" -eq "$rows" ] || { echo "compared $total of $rows reference rows" >&2; exit 1; }
echo "all $total R reference rows agree"
