#!/bin/sh
# svy-plot against R's ggplot2 + svglite drawing the same chart (dots with
# CI bars, colour by gender, one panel per province) to SVG.
# Usage: bench/plot.sh [BUILD]   (from the top of the tree; default BUILD=build)
# Prints wall time (hyperfine, mean of runs) and peak RSS (/usr/bin/time -v).
set -eu
build=${1:-build}
plot="$build/tools/svy-plot"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Two tables: a report-sized one (31 provinces x 2 genders, 4 categories) and a
# stress one (40 provinces x 250 categories x 2 genders = 20000 estimates).
gen() { # provinces categories
  awk -v P="$1" -v C="$2" 'BEGIN {
    srand(7); print "province,category,gender,variable,estimate,se,ci_low,ci_high,df,deff,n,weighted_n"
    for (p = 0; p < P; p++) for (c = 0; c < C; c++) for (g = 0; g < 2; g++) {
      e = 0.1 + 0.8 * rand(); h = 0.02 + 0.05 * rand()
      printf "P%d,C%d,%s,v,%.4f,0.01,%.4f,%.4f,10,1,100,100\n", p, c, g ? "F" : "M", e, e - h, (e + h > 1 ? 1 : e + h)
    } }'
}
gen 31 4 > "$tmp/small.csv"
gen 40 250 > "$tmp/large.csv"

cat > "$tmp/gg.R" <<'R'
args <- commandArgs(TRUE)
suppressMessages({library(ggplot2); library(svglite)})
d <- read.csv(args[1])
p <- ggplot(d, aes(estimate, category, colour = gender)) +
  geom_errorbarh(aes(xmin = ci_low, xmax = ci_high), height = 0,
                 position = position_dodge(0.5)) +
  geom_point(position = position_dodge(0.5)) +
  facet_wrap(~province) + scale_x_continuous(labels = scales::percent)
svglite(args[2], width = 10, height = 8); print(p); invisible(dev.off())
R

for t in small large; do
  echo "== $t: $(($(wc -l < "$tmp/$t.csv") - 1)) estimates"
  # ggplot2 takes minutes on the large table: fewer runs there.
  runs=5; [ $t = large ] && runs=2
  hyperfine -N --warmup 1 --runs $runs \
    "$plot -x category -c gender -f province -o $tmp/$t.svg $tmp/$t.csv" \
    "Rscript $tmp/gg.R $tmp/$t.csv $tmp/$t-gg.svg" 2>/dev/null | grep -E 'Time|Benchmark'
  for cmd in "$plot -x category -c gender -f province -o $tmp/$t.svg $tmp/$t.csv" \
             "Rscript $tmp/gg.R $tmp/$t.csv $tmp/$t-gg.svg"; do
    rss=$(/usr/bin/time -v $cmd 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}')
    echo "peak RSS ${rss} KB: ${cmd%% *}"
  done
  echo "SVG bytes: svy-plot $(wc -c < "$tmp/$t.svg"), ggplot2 $(wc -c < "$tmp/$t-gg.svg")"
done
