# R side of bench/model.sh: the same model as svy-model, end to end from the CSV.
# Usage: Rscript bench/model.R FILE.csv OUT.csv
args <- commandArgs(TRUE)
suppressPackageStartupMessages({ library(data.table); library(survey) })
dt <- fread(args[1])
des <- svydesign(ids = ~city, strata = ~province, weights = ~weight, data = dt, nest = TRUE)
m <- svyglm(pension ~ factor(category) + gender + age + factor(hukou) + income, design = des,
            family = quasibinomial())
s <- summary(m)$coefficients
fwrite(data.table(term = rownames(s), estimate = s[, 1], se = s[, 2]), args[2])
