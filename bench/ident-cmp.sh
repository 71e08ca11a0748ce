#!/bin/sh
# Usage: bench/ident-cmp.sh BASE NEW : cmp every output file; print callgrind ratios.
base=$1 new=$2; bad=0
for f in "$base"/*; do b=$(basename "$f"); case $b in callgrind.txt|cg.tmp) continue;; esac
  cmp -s "$f" "$new/$b" || { echo "DIFFERS: $b"; bad=1; }; done
[ $bad = 0 ] && echo "all outputs byte-identical ($(ls "$base" | wc -l) files)"
if [ -s "$new/callgrind.txt" ]; then
  join "$base/callgrind.txt" "$new/callgrind.txt" | awk '{printf "%-12s %15s %15s %+.2f%%\n", $1, $2, $3, ($3-$2)*100/$2}'
fi
exit $bad
