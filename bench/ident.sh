#!/bin/sh
# Byte-identity and instruction-count harness for refactors (issue 14): run it on the tree
# before and after, then compare with bench/ident-cmp.sh BEFORE AFTER.
# Usage: bench/ident.sh TREE OUTDIR [callgrind]
#   TREE: a source tree with a built build/ (tools in TREE/build/tools)
#   OUTDIR: where outputs go (every output, its stderr and exit code; callgrind.txt)
# The 1M-row data are generated once into ${SVY_BENCHDATA:-/tmp/svy-benchdata}.
set -eu
export SOURCE_DATE_EPOCH=1700000000
tree=$(cd "$1" && pwd); out=$2; cg=${3:-}
t=$tree/build/tools; d=${SVY_BENCHDATA:-${TMPDIR:-/tmp}/svy-benchdata}; src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
if [ ! -s $d/done ]; then
  mkdir -p $d $d/real
  cc -O2 -o $d/gen-tab $src/bench/gen-tab.c
  cc -O2 -o $d/gen-weight $src/bench/gen-weight.c -lm
  $d/gen-tab 1000000 > $d/tab.csv
  $d/gen-tab 1000000 20211 shuffle > $d/tabs.csv
  $d/gen-weight margins $d; $d/gen-weight real-margins $d/real
  $d/gen-weight 1000000 > $d/w-strata.csv
  $d/gen-weight real 1000000 > $d/w-real.csv
  awk -v n=1000000 -F, 'NR == 1 { print; next } { rows[++k] = $0 }
    END { c = 0; for (rep = 0; c < n; rep++) for (i = 1; i <= k && c < n; i++) {
      line = rows[i]; p = index(line, ","); print (substr(line, 1, p - 1) + rep * 1000000) substr(line, p); c++ } }' \
    $src/samples/nsfe-2021-raw.csv > $d/raw.csv
  echo ok > $d/done
fi
A1="-s province -p psu -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"
A2="-s province -p psu,id --fpc fpc1,fpc2 -w weight -b category,gender,province -r y1,y2,y3,y4,y5,y6"
run() { name=$1; shift; rc=0; "$@" > "$out/$name.out" 2> "$out/$name.err" || rc=$?; echo $rc > "$out/$name.rc"; }
cb=$src/codebooks/nsfe-2021
run tab1 $t/svy-tab $A1 $d/tab.csv
run tab2 $t/svy-tab $A2 $d/tab.csv
run tab2s $t/svy-tab $A2 $d/tabs.csv
run tab1md $t/svy-tab $A1 --format md $d/tab.csv
run tab2json $t/svy-tab $A2 --format json $d/tabs.csv
run wstrata $t/svy-weight -w wt -m $d/region.csv -m $d/gender_age.csv -m $d/urban.csv --report $out/wstrata-report.csv $d/w-strata.csv
run wreal $t/svy-weight -w wt -m $d/real/province.csv -m $d/real/gender_category.csv $d/w-real.csv
run wtrim $t/svy-weight -w wt -m $d/real/province.csv -m $d/real/gender_category.csv --trim 0.3x,3.5x --report $out/wtrim-report.csv $d/w-real.csv
run clean $t/svy-clean -c $cb --log $out/clean-log.csv --rejects $out/clean-rej.csv $d/raw.csv
run import-csv $t/svy-import $d/w-real.csv
rm -f $out/x.dta $out/x.sav
run export-dta $t/svy-export $d/w-real.csv -o $out/x.dta
run export-sav $t/svy-export $d/w-real.csv -o $out/x.sav
run import-dta $t/svy-import $out/x.dta
run import-sav $t/svy-import $out/x.sav
run codebook $t/svy-codebook $d/w-real.csv
run plot1 $t/svy-plot --filter variable=y1 -o $out/plot1.svg $out/tab1.out
run plot1md $t/svy-plot --filter variable=y2 $out/tab1.out
sed -i "s#$out#OUT#g; s#$tree#TREE#g" $out/*.err 2>/dev/null || true
if [ "$cg" = callgrind ]; then
  : > $out/callgrind.txt
  cgr() { name=$1; shift; valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" > /dev/null 2> $out/cg.tmp || true
    echo "$name $(grep -o 'Collected : [0-9]*' $out/cg.tmp | awk '{print $3}')" >> $out/callgrind.txt; }
  cgr tab1 $t/svy-tab $A1 $d/tab.csv
  cgr tab2 $t/svy-tab $A2 $d/tab.csv
  cgr tab2s $t/svy-tab $A2 $d/tabs.csv
  cgr wstrata $t/svy-weight -w wt -m $d/region.csv -m $d/gender_age.csv -m $d/urban.csv $d/w-strata.csv
  cgr wreal $t/svy-weight -w wt -m $d/real/province.csv -m $d/real/gender_category.csv $d/w-real.csv
  cgr clean $t/svy-clean -c $cb $d/raw.csv
  cgr import-csv $t/svy-import $d/w-real.csv
  cgr export-dta $t/svy-export $d/w-real.csv -o $out/y.dta
  rm -f $out/y.dta $out/cg.tmp
  cat $out/callgrind.txt
fi
