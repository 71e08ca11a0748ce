# svy-tab's table (first file) against R's svyby of the same rates
# (bench/tab.R's fwrite, second file): the largest relative difference of
# the estimates and SEs over the cells both hold.
# Usage: awk -f bench/cmp-r.awk SVY.csv R.csv
BEGIN { FS = "," }
NR == FNR { if (FNR > 1) { est[$1 "," $2 "," $3 "," $4] = $6; se[$1 "," $2 "," $3 "," $4] = $7 }; next }
FNR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
{
  for (j = 1; j <= 6; j++) {
    k = $1 "," $2 "," $3 ",y" j
    for (i = 1; i <= NF; i++) { if (h[i] == "y" j) re = $i; if (h[i] == "se.y" j || h[i] == "se" j) rs = $i }
    if (!(k in est)) { print "  R: cell " k " missing from svy-tab's table"; bad = 1; exit 1 }
    d = (est[k] - re) / re; if (d < 0) d = -d; if (d > m) m = d
    d = (se[k] - rs) / rs; if (d < 0) d = -d; if (d > m) m = d; c++
  }
}
END { if (!bad) printf "  R against svy-tab: largest relative difference %.1e (%d cells)\n", m, c }
