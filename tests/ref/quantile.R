# Reference values for libsurvey/quantile.c (tests/unit/test_quantile.c):
# R survey >= 4's svyquantile defaults (qrule = "math", interval.type =
# "mean", the Woodruff interval centred at the estimated CDF) on apistrat
# (api00: median and quartiles, whole sample and by stype as svyby does)
# and apiclus1 (median, statistics-reference-2 §5).
# Run from the repository root:  Rscript tests/ref/quantile.R
# Writes tests/ref/quantile.csv: case,item,i,value (17 significant digits).
# Inputs: the domain's values x and weights w (i = 1..n), the probability p,
# df; the CDF at the estimate as the estimator computes it in its second pass
# (Fhat, se_F: svymean(x <= qhat) on the domain); R's quantile, CI and SE.
suppressPackageStartupMessages(library(survey))
data(api)

out <- file("tests/ref/quantile.csv", "w")
writeLines("case,item,i,value", out)
put <- function(case, item, v, i = 0)
  writeLines(sprintf("%s,%s,%d,%s", case, item, i, trimws(formatC(v, digits = 17, format = "g"))), out)

qcase <- function(case, d, p) {
  x <- d$variables$api00
  w <- weights(d)
  put(case, "n", length(x))
  for (i in seq_along(x)) { put(case, "x", x[i], i); put(case, "w", w[i], i) }
  put(case, "p", p)
  df <- degf(d)
  put(case, "df", df)
  q <- svyquantile(~api00, d, quantiles = p)
  r <- q$api00
  qhat <- r[1, "quantile"]
  m <- svymean(~as.numeric(api00 <= qhat), d)
  put(case, "Fhat", coef(m)[1]); put(case, "se_F", SE(m)[1])
  put(case, "q", qhat); put(case, "lo", r[1, 2]); put(case, "hi", r[1, 3]); put(case, "se", r[1, "se"])
}

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
for (p in c(0.25, 0.5, 0.75)) {
  qcase(sprintf("strat_all_%g", p), dstrat, p)
  # svyby(~api00, ~stype, dstrat, svyquantile) calls svyquantile on each
  # domain's subset: its df is the domain's degf.
  for (s in levels(apistrat$stype)) qcase(sprintf("strat_%s_%g", s, p), subset(dstrat, stype == s), p)
}
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
qcase("clus1_all_0.5", dclus1, 0.5)
qcase("clus1_all_0.1", dclus1, 0.1)
close(out)

# The svyby route gives the same numbers (checked here, not written).
b <- svyby(~api00, ~stype, dstrat, svyquantile, quantiles = 0.5, ci = TRUE)
stopifnot(isTRUE(all.equal(unname(coef(b)), sapply(levels(apistrat$stype), function(s)
  svyquantile(~api00, subset(dstrat, stype == s), 0.5)$api00[1, 1]), check.attributes = FALSE)))
print(b)
print(SE(b))
