# Reference values for svy-tab --ratio NUM/DEN (issue 15): R's svyratio with
# na.rm = TRUE (the rows where both columns are present: a domain, as
# svy-tab does) and deff = TRUE, whole sample, by stype (svyby) and within a
# subpopulation (subset), on tests/data/api*.csv.  CIs use df = degf of the
# domain's rows (svy-tab's --df domain; R's svyby attaches none, and confint
# on a svyratio uses Inf: the "ci df=Inf" rows).
# Run from the repository root:  Rscript tests/ref/issue15-ratio.R
# Writes tests/ref/issue15-ratio.csv: the columns of issue15-tab.csv, plus deff.
suppressPackageStartupMessages(library(survey))
rd <- function(f) read.csv(f, stringsAsFactors = FALSE, na.strings = "")
strat <- rd("tests/data/apistrat.csv")
clus1 <- rd("tests/data/apiclus1.csv")
clus2 <- rd("tests/data/apiclus2.csv")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
des <- list(strat = c("apistrat", "stype", "", "pw", "fpc"), clus1 = c("apiclus1", "", "dnum", "pw", "fpc"),
            clus2 = c("apiclus2", "", "dnum snum", "", "fpc1 fpc2"))
rows <- list()
f17 <- function(v) ifelse(is.na(v), "NA", trimws(formatC(v, digits = 17, format = "g")))
add <- function(case, dn, subpop, by, domain, var, est, se, lo, hi, df, deff, extra = "") {
  rows[[length(rows) + 1]] <<- c(case, des[[dn]], subpop, by, domain, "ratio", var, "NA", f17(est), f17(se),
                                 f17(lo), f17(hi), f17(df), extra, f17(deff))
}
one <- function(case, dn, d, num, den, subpop = "", byv = "", domain = "") {
  r <- svyratio(as.formula(paste0("~", num)), as.formula(paste0("~", den)), d, na.rm = TRUE, deff = TRUE)
  est <- coef(r)[[1]]; se <- SE(r)[[1]]; df <- degf(d); q <- qt(0.975, df)
  v <- paste0(num, "/", den)
  add(case, dn, subpop, byv, domain, v, est, se, est - q * se, est + q * se, df, deff(r)[[1]])
  if (byv == "") {
    q <- qnorm(0.975)
    add(case, dn, subpop, byv, domain, v, est, se, est - q * se, est + q * se, Inf, deff(r)[[1]], "ci df=Inf")
  }
}
cases <- function(case, dn, d, num, den) {
  one(case, dn, d, num, den)
  for (s in sort(unique(d$variables$stype))) {
    ds <- eval(bquote(subset(d, stype == .(s))))
    one(case, dn, ds, num, den, "", "stype", s)
  }
}
cases("ratio_strat", "strat", dstrat, "api00", "enroll")
cases("ratio_clus1", "clus1", dclus1, "enroll", "api00")
cases("ratio_clus2", "clus2", dclus2, "api00", "enroll")
one("ratio_clus2_acs", "clus2", dclus2, "acs_k3", "api00") # by stype: no H school has acs_k3 (R fails there)
# within a subpopulation
one("ratio_sub_clus1", "clus1", subset(dclus1, api00 > 600), "enroll", "api00", "api00 > 600")
# svyby's own numbers agree with the subsets' (checked here, not written)
b <- svyby(~api00, ~stype, dstrat, svyratio, denominator = ~enroll, na.rm = TRUE)
stopifnot(abs(coef(b)[["E"]] - coef(svyratio(~api00, ~enroll, subset(dstrat, stype == "E")))) < 1e-12)

out <- do.call(rbind, rows)
colnames(out) <- c("case", "data", "strata", "psu", "weight", "fpc", "subpop", "by", "domain", "statistic",
                   "variable", "p", "estimate", "se", "ci_low", "ci_high", "df", "extra", "deff")
write.csv(out, "tests/ref/issue15-ratio.csv", row.names = FALSE)
