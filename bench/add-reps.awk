# bench/tab16.sh: append R replicate weights rw1..rwR to gen-tab's output, as
# a bootstrap-like file has them: each replicate multiplies every row of a
# PSU by the same factor (0 or 2, drawn per PSU and replicate from srand(7)),
# so the replicates carry the design's clustering.
# Usage: awk -v R=80 -f bench/add-reps.awk tab.csv
BEGIN { FS = ","; srand(7); if (!R) R = 80
        for (p = 1; p <= 1240; p++) for (k = 1; k <= R; k++) m[p, k] = rand() < 0.5 ? 0 : 2 }
NR == 1 { printf "%s", $0; for (k = 1; k <= R; k++) printf ",rw%d", k; print ""; next }
{ printf "%s", $0; w = $3; p = $2
  for (k = 1; k <= R; k++) if (m[p, k]) printf ",%.2f", 2 * w; else printf ",0"
  print "" }
