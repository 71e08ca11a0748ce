# Reference values for libsurvey/compare.c (tests/unit/test_compare.c): R's
# svyby(covmat = TRUE) + svycontrast + confint, and svychisq (statistic "F"
# and "Chisq"), on R's api data (apistrat, apiclus1, apiclus2) and mu284.
# Run from the repository root:  Rscript tests/ref/compare.R
# Writes tests/ref/compare.csv: case,item,i,j,value (17 significant digits).
# Each case holds the module's inputs (coefficients and their covariance;
# cell proportions, their design covariance, N and nu as svychisq computes
# them) and R's outputs.
suppressPackageStartupMessages(library(survey))
data(api)
data(mu284)

out <- file("tests/ref/compare.csv", "w")
writeLines("case,item,i,j,value", out)
put <- function(case, item, v, i = 0, j = 0)
  writeLines(sprintf("%s,%s,%d,%d,%s", case, item, i, j, trimws(formatC(v, digits = 17, format = "g"))), out)
putvec <- function(case, item, v) for (i in seq_along(v)) put(case, item, v[i], i)
putmat <- function(case, item, m)
  for (i in seq_len(nrow(m))) for (j in seq_len(ncol(m))) put(case, item, m[i, j], i, j)

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
mu <- mu284
mu$half <- factor(ifelse(mu$id2 %% 2 == 0, "even", "odd"))
mu$high <- factor(ifelse(mu$y1 > 50, "high", "low"))
dmu <- svydesign(id = ~id1 + id2, fpc = ~n1 + n2, data = mu)

# Linear contrasts of domain estimates: inputs (coef, vcov), the contrast
# vector, df = degf(design), and R's estimate, SE, CI at that df and at Inf.
contrast_case <- function(case, b, cvec, df) {
  cf <- coef(b); V <- vcov(b)
  put(case, "k", length(cf)); putvec(case, "coef", cf); putmat(case, "vcov", V)
  putvec(case, "c", cvec); put(case, "df", df)
  con <- svycontrast(b, cvec)
  est <- coef(con); se <- SE(con)
  put(case, "est", est); put(case, "se", se)
  tt <- est / se
  put(case, "t", tt); put(case, "p", 2 * pt(-abs(tt), df))
  ci <- confint(con, df = df); put(case, "lo", ci[1]); put(case, "hi", ci[2])
  ci90 <- confint(con, df = df, level = 0.9); put(case, "lo90", ci90[1]); put(case, "hi90", ci90[2])
  ciinf <- confint(con); put(case, "lo_inf", ciinf[1]); put(case, "hi_inf", ciinf[2])
  put(case, "p_inf", 2 * pnorm(-abs(tt)))
}

b <- svyby(~api00, ~stype, dstrat, svymean, covmat = TRUE)
contrast_case("strat_api00_EH", b, c(1, 0, -1), degf(dstrat))
contrast_case("strat_api00_Eavg", b, c(1, -0.5, -0.5), degf(dstrat))
b <- svyby(~api00, ~stype, dclus1, svymean, covmat = TRUE)
contrast_case("clus1_api00_EH", b, c(1, -1, 0), degf(dclus1))
b <- svyby(~I(as.numeric(sch.wide == "Yes")), ~stype, dclus1, svymean, covmat = TRUE)
contrast_case("clus1_schwide_EH", b, c(1, -1, 0), degf(dclus1))
b <- svyby(~enroll, ~stype, dclus1, svytotal, covmat = TRUE)
contrast_case("clus1_enroll_total_EM", b, c(1, 0, -1), degf(dclus1))
b <- svyby(~api00, ~stype + awards, dclus2, svymean, covmat = TRUE)
contrast_case("clus2_api00_awards_E", b, c(1, 0, 0, -1, 0, 0), degf(dclus2))
b <- svyby(~y1, ~half, dmu, svymean, covmat = TRUE)
contrast_case("mu284_y1_half", b, c(-1, 1), degf(dmu))

# Rao-Scott: the inputs exactly as svychisq.survey.design computes them.
chisq_case <- function(case, formula, design, rows, cols) {
  fsat <- eval(bquote(~interaction(factor(.(as.name(rows))), factor(.(as.name(cols)))) - 1))
  mm <- model.matrix(fsat, model.frame(fsat, design$variables, na.action = na.pass))
  N <- nrow(mm)
  nu <- length(unique(design$cluster[, 1])) - length(unique(design$strata[, 1]))
  mean2 <- svymean(mm, design, na.rm = TRUE)
  nr <- length(unique(na.omit(design$variables[, rows])))
  nc <- length(unique(na.omit(design$variables[, cols])))
  put(case, "R", nr); put(case, "C", nc); put(case, "N", N); put(case, "nu", nu)
  putvec(case, "phat", coef(mean2)); putmat(case, "V", attr(mean2, "var"))
  f <- svychisq(formula, design, statistic = "F")
  ch <- svychisq(formula, design, statistic = "Chisq")
  put(case, "X2", ch$statistic); put(case, "F", f$statistic)
  put(case, "ndf", f$parameter[1]); put(case, "ddf", f$parameter[2])
  put(case, "p_F", f$p.value); put(case, "p_chisq", ch$p.value); put(case, "df_chisq", ch$parameter[1])
}
chisq_case("strat_awards_stype", ~awards + stype, dstrat, "awards", "stype")
chisq_case("clus1_schwide_stype", ~sch.wide + stype, dclus1, "sch.wide", "stype")
chisq_case("clus2_stype_awards", ~stype + awards, dclus2, "stype", "awards")
chisq_case("mu284_high_half", ~high + half, dmu, "high", "half")
# 3 x 4: four tr Delta^2 terms off the diagonal.
dstrat <- update(dstrat, ell4 = cut(ell, quantile(apistrat$ell, 0:4 / 4), include.lowest = TRUE, labels = 1:4))
chisq_case("strat_stype_ell4", ~stype + ell4, dstrat, "stype", "ell4")
close(out)
