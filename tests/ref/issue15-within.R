# --diff and --test within a combination of another by variable (issue 15):
# apistrat as tests/data/apistrat.csv, by awards x stype.  R: svychisq on
# subset(design, awards == "No"); svyby(~api00, ~stype + awards, covmat =
# TRUE) + svycontrast for H - E within awards == "Yes", df = degf(design).
# Writes tests/ref/issue15-within.csv.  Run from the repository root.
suppressMessages(library(survey))
d0 <- read.csv("tests/data/apistrat.csv", stringsAsFactors = FALSE, na.strings = "")
des <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = d0)
t <- svychisq(~sch_wide + stype, subset(des, awards == "No"), statistic = "F")
b <- svyby(~api00, ~stype + awards, des, svymean, covmat = TRUE)
nm <- rownames(b)
cc <- setNames(rep(0, length(nm)), nm); cc["H.Yes"] <- 1; cc["E.Yes"] <- -1
k <- svycontrast(b, cc)
est <- as.numeric(coef(k)); s <- as.numeric(SE(k)); df <- degf(des)
out <- data.frame(what = c("test_f_No", "diff_H_E_Yes"),
                  statistic = c(unname(t$statistic), est), ndf = c(unname(t$parameter[1]), s),
                  ddf = c(unname(t$parameter[2]), df),
                  p_value = c(t$p.value, 2 * pt(-abs(est / s), df)))
write.csv(format(out, digits = 17), "tests/ref/issue15-within.csv", row.names = FALSE, quote = FALSE)
print(out, digits = 17)
