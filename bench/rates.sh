#!/bin/sh
# Every tool's rows per second on the 1M-row bench files (the ones
# bench/ident.sh generates into ${SVY_BENCHDATA:-/tmp/svy-benchdata}).
#   bench/rates.sh [BUILD_DIR]
# One run each, output to /dev/null (svy-export to a file), CPU = user+sys
# from /usr/bin/time; rows/s = 1,000,000 / CPU seconds and / wall seconds.
set -eu
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
t=${1:-$root/build}/tools; d=${SVY_BENCHDATA:-${TMPDIR:-/tmp}/svy-benchdata}
[ -s "$d/done" ] || { echo "no bench data in $d: run bench/ident.sh first" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cb=$root/codebooks/nsfe-2021
A1="-s province -p psu -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"
A2="-s province -p psu,id --fpc fpc1,fpc2 -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"
echo "rates: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "| tool | command (1M rows) | CPU s | wall s | rows/CPU-s | rows/wall-s |"
echo "|---|---|---:|---:|---:|---:|"
m() { label=$1; shift
  /usr/bin/time -f '%U %S %e' -o "$out/t" "$@" > /dev/null 2> "$out/err" || { cat "$out/err" >&2; exit 1; }
  read -r u s e < "$out/t"
  awk -v l="$label" -v u="$u" -v s="$s" -v e="$e" 'BEGIN { c = u + s
    printf "| %s | %.2f | %.2f | %.0f | %.0f |\n", l, c, e, (c > 0 ? 1e6 / c : 0), (e > 0 ? 1e6 / e : 0) }'; }
m "svy-import | \`svy-import w-real.csv\`" $t/svy-import $d/w-real.csv
m "svy-export | \`svy-export w-real.csv -o x.dta\`" $t/svy-export $d/w-real.csv -o $out/x.dta
m "svy-import | \`svy-import x.dta\`" $t/svy-import $out/x.dta
m "svy-codebook | \`svy-codebook w-real.csv\`" $t/svy-codebook $d/w-real.csv
m "svy-clean | \`svy-clean -c nsfe-2021 --log L --rejects R raw.csv\`" $t/svy-clean -q -c $cb --log $out/log.csv --rejects $out/rej.csv $d/raw.csv
m "svy-clean | \`svy-clean -c nsfe-2021 raw.csv\` (no log)" $t/svy-clean -q -c $cb $d/raw.csv
m "svy-weight | \`svy-weight -w wt -m region -m gender_age -m urban w-strata.csv\`" $t/svy-weight -q -w wt -m $d/region.csv -m $d/gender_age.csv -m $d/urban.csv $d/w-strata.csv
m "svy-weight | \`svy-weight -w wt -m province -m gender_category w-real.csv\`" $t/svy-weight -q -w wt -m $d/real/province.csv -m $d/real/gender_category.csv $d/w-real.csv
m "svy-tab | \`svy-tab \$A1 tab.csv\` (one stage)" $t/svy-tab $A1 $d/tab.csv
m "svy-tab | \`svy-tab \$A2 tabs.csv\` (two stages, shuffled)" $t/svy-tab $A2 $d/tabs.csv
m "svy-model | \`svy-model --logit -s province -p psu -w weight 'y1 ~ factor(category) + gender' tab.csv\`" $t/svy-model -q --logit -s province -p psu -w weight 'y1 ~ factor(category) + gender' $d/tab.csv
echo "(svy-plot reads svy-tab's table, hundreds of rows: no rows/s.)"
