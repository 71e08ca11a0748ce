#!/bin/sh
# make demo: rebuild the NSFE-2021 report from the raw sample and show its
# headline table.  Usage: samples/demo.sh BUILD-DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
out="${SVY_DEMO_OUT:-$top/samples/report/out}"  # a test writes elsewhere
make -s -C "$top/samples/report" BIN="$build/tools" OUT="$out"
echo
echo "Participation in each scheme by worker category, NSFE-2021 sample (weighted, 95% CI):"
echo
cat "$out/by-category.md"
echo
echo "Cleaning summary (all of it in samples/report/out/clean-summary.txt):"
# svy-clean's last line says the first problems are "shown above": show them.
grep -v '^svy-clean: \(rows\|cells changed\|problems\):' "$out/clean-summary.txt" | head -n 3 | sed 's/^/  /'
sed 's/^/  /' "$out/clean-summary.txt" | tail -n 3
echo
echo "Tables (csv, md, tex) and figures (svg) are in samples/report/out/:"
( cd "$out" && ls *.md *.svg | sed 's/^/  /' )
