# R side of bench/tab.sh: the same table as svy-tab, end to end from the CSV.
# Usage: Rscript bench/tab.R FILE.csv OUT.csv
args <- commandArgs(TRUE)
suppressPackageStartupMessages({ library(data.table); library(survey) })
dt <- fread(args[1])
des <- svydesign(ids = ~psu, strata = ~province, weights = ~weight, data = dt, nest = TRUE)
r <- svyby(~y1 + y2 + y3 + y4 + y5 + y6, ~category + gender + province, des, svymean)
fwrite(r, args[2])
