# bench/tab15.sh, tab16.sh: compare svy-tab's long CSV (first file) with R's
# domain,variable,estimate,se (second file); prints the largest relative
# differences of estimate and se and the number of cells matched.
# -v mode=plain|subpop|quantile|rep|diff|test (test: se holds the p-value)
function csv(line, f,   n, i, c, q, s) { # split one CSV line into f[1..n] (quoted fields)
  n = 0; s = ""; q = 0
  for (i = 1; i <= length(line); i++) {
    c = substr(line, i, 1)
    if (q) { if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { s = s c; i++ } else q = 0 } else s = s c }
    else if (c == "\"") q = 1
    else if (c == ",") { f[++n] = s; s = "" }
    else s = s c
  }
  f[++n] = s; return n
}
function rel(a, b,   d) { d = a - b; if (d < 0) d = -d; if (d < 1e-15 && mode != "test") return 0; # R: ~5e-17 where svy-tab has 0
   if (b < 0) b = -b; return b > 0 ? d / b : d }
FNR == 1 && NR == 1 { n = split($0, h, ","); for (i = 1; i <= n; i++) c[h[i]] = i; next }
NR == FNR { csv($0, f)
  if (mode == "test") { k = f[c["gender"]] "." f[c["province"]] ":" f[c["variable"]]; est[k] = f[c["statistic"]]; se[k] = f[c["p_value"]]; next }
  st = f[c["statistic"]]
  d = f[c["category"]] "." f[c["gender"]] "." f[c["province"]]
  if (mode ~ /^diff/) { if (st != "difference") next; d = f[c["category"]] "-" f[c["reference"]] "." f[c["gender"]] "." f[c["province"]] }
  else if (st != "rate" && st != "quantile") next
  k = d ":" f[c["variable"]]; est[k] = f[c["estimate"]]; se[k] = f[c["se"]]; next }
FNR == 1 { next }
{ split($0, r, ","); k = r[1] ":" r[2]
  if (!(k in est)) { miss++; next }
  x = rel(est[k], r[3]); if (x > me) me = x
  if (se[k] == "") nose++; else { x = rel(se[k], r[4]); if (x > ms) ms = x }
  m++ }
END { printf "est %.1e, %s %.1e (%d cells%s%s)", me, mode == "test" ? "p" : "se", ms, m, miss ? ", " miss " missing in svy-tab" : "", nose ? ", " nose " without an SE in svy-tab" : "" }
