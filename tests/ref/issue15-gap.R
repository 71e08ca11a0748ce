# The sample study's gap (issue 15): pension_emp by worker category on
# tests/data/nsfe-2021.csv (the design of tab-api.R's nsfe_cat case:
# strata province, PSUs city, weight, fpc), each category minus category 1,
# from R's svyby(covmat = TRUE) + svycontrast, with the naive
# sqrt(se1^2 + se2^2) beside it.  Writes tests/ref/issue15-gap.csv.
# Run from the repository root: Rscript tests/ref/issue15-gap.R
suppressMessages(library(survey))
d0 <- read.csv("tests/data/nsfe-2021.csv", stringsAsFactors = FALSE, na.strings = "")
des <- svydesign(id = ~city, strata = ~province, weights = ~weight, fpc = ~fpc, data = d0)
out <- NULL
for (v in c("pension_emp", "medical_emp")) {
  # svyby(covmat = TRUE) fails with na.rm = TRUE in survey 4.1.1 ("number of
  # items to replace..."): the rows with a value, a subset, are what na.rm
  # would use (domain estimation: the design's PSU counts are kept).
  dv <- subset(des, !is.na(d0[[v]]))
  b <- svyby(as.formula(paste0("~", v)), ~category, dv, svymean, covmat = TRUE)
  lv <- as.character(b$category)
  se <- SE(b)
  for (j in seq_along(lv)[-1]) {
    cc <- setNames(rep(0, length(lv)), lv); cc[j] <- 1; cc[1] <- -1
    k <- svycontrast(b, cc)
    est <- as.numeric(coef(k)); s <- as.numeric(SE(k)); df <- degf(des)  # svy-tab: the design's df
    tq <- qt(0.975, df)
    out <- rbind(out, data.frame(variable = v, level = lv[j], reference = lv[1], estimate = est, se = s,
                                 ci_low = est - tq * s, ci_high = est + tq * s, df = df,
                                 p_value = 2 * pt(-abs(est / s), df),
                                 naive_se = sqrt(se[j]^2 + se[1]^2)))
  }
}
write.csv(format(out, digits = 17), "tests/ref/issue15-gap.csv", row.names = FALSE, quote = FALSE)
print(out)
