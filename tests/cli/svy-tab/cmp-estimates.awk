# Compare svy-tab's long table (first file; by stype, --overall) with R's
# reference rows (second file: id, domain, variable, then estimate, se,
# ci_low, ci_high, df, deff) of case `id` to 1e-9 relative; prints the rows
# compared, or names each difference on stderr and exits 1.  -v na=skip: an
# NA of R's is not compared (else it must be empty in ours too).
function bad(what) { printf "%s %s %s: %s ours=%s R=%s\n", id, dom, var, what, o, r > "/dev/stderr"; fail = 1 }
NR == FNR { if (FNR == 1) next; d = ($1 == "" ? "(all)" : $1); ours[d "," $2] = $0; next }
FNR == 1 || $1 != id { next }
{ dom = $2; var = $3; key = dom "," var
  if (!(key in ours)) { o = ""; r = ""; bad("no row"); next }
  split(ours[key], f, ",")
  for (j = 0; j < 6; j++) {
    o = f[4 + j]; r = $(5 + j)
    if (o == r || (r == "NA" && na == "skip")) continue
    if (o == "" || r == "" || r == "NA") { bad("missing"); continue }
    d = o - r; if (d < 0) d = -d; s = (r < 0 ? -r : r)
    if (d > 1e-9 * s) bad("differs")
  }
  c++ }
END { if (fail) exit 1; print c + 0 }
