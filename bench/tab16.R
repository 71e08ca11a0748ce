# R's side of bench/tab16.sh: rates of y1..y6 by category x gender x province
# with 80 bootstrap replicate weights (svrepdesign(type = "bootstrap") +
# svyby(svymean)), end to end from the CSV.  Writes domain,variable,estimate,se.
# Usage: Rscript bench/tab16.R FILE.csv OUT.csv
a <- commandArgs(TRUE)
suppressPackageStartupMessages({ library(data.table); library(survey) })
dt <- fread(a[1])
des <- svrepdesign(data = dt, weights = ~weight, repweights = "rw[0-9]+", type = "bootstrap")
ys <- paste0("y", 1:6)
b <- svyby(~y1 + y2 + y3 + y4 + y5 + y6, ~category + gender + province, des, svymean)
n <- do.call(rbind, strsplit(names(coef(b)), ":")) # "category.gender.province:y"
f17 <- function(v) trimws(formatC(v, digits = 17, format = "g"))
fwrite(data.table(domain = n[, 1], variable = n[, 2], estimate = f17(as.numeric(coef(b))), se = f17(sqrt(suppressWarnings(diag(as.matrix(vcov(b))))))), a[2])
