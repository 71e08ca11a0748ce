# bench/tab15.sh and bench/tab16.sh: append income to gen-tab's output: lognormal by
# category, missing (empty) on 5% of rows, a function of the respondent id only
# (the same value for a row sorted or shuffled).  Usage: awk -f bench/add-income.awk tab.csv
BEGIN { FS = OFS = ","; M = 4294967296 }
NR == 1 { print $0, "income"; next }
{ id = $12
  u1 = ((id * 2654435761) % M + 0.5) / M
  u2 = ((id * 40503 + 12345) % 65521 + 0.5) / 65521
  u3 = ((id * 69069 + 1) % 1000003) / 1000003
  if (u3 < 0.05) { print $0, ""; next }
  z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2)
  printf "%s,%.2f\n", $0, exp(7.6 + 0.25 * $4 + 0.6 * z) }
