# R reference for svy-tab --quantile on a two-stage design (weights derived
# from the fpc: three passes over the rows) and within --subpop: apiclus2,
# api00 at p = .25, .5, .75 (and acs_k3, with NAs, at .25, .5), whole sample, by stype (svyby(svyquantile):
# each domain's subset, df its degf) and on subset(stype != "E").
# Run from the top of the tree: Rscript tests/ref/issue15-quantile.R
# (writes tests/ref/issue15-quantile.csv, the columns of issue15-tab.csv).
suppressMessages(library(survey))
d <- read.csv("tests/data/apiclus2.csv")
des <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = d)
probs <- c(0.25, 0.5, 0.75)
out <- NULL
row <- function(case, subpop, by, dom, des1, p, v = "api00") {
    q <- svyquantile(make.formula(v), des1, p, ci = TRUE, se = TRUE, na.rm = TRUE)
    ci <- confint(q)
    data.frame(case = case, data = "apiclus2", strata = "", psu = "dnum snum", weight = "",
               fpc = "fpc1 fpc2", subpop = subpop, by = by, domain = dom, statistic = "quantile",
               variable = v, p = format(p), estimate = sprintf("%.17g", coef(q)),
               se = sprintf("%.17g", SE(q)), ci_low = sprintf("%.17g", ci[1]),
               ci_high = sprintf("%.17g", ci[2]), df = degf(des1[!is.na(des1$variables[[v]]), ]), extra = "")
}
for (p in probs) {
    out <- rbind(out, row("quantile_clus2", "", "", "", des, p))
    for (s in c("E", "H", "M"))
        out <- rbind(out, row("quantile_clus2", "", "stype", s, subset(des, stype == s), p))
    out <- rbind(out, row("quantile_clus2sub", "stype != \"E\"", "", "", subset(des, stype != "E"), p))
}
# acs_k3 has NAs: na.rm = TRUE makes the rows with a value the domain, df too
for (p in c(0.25, 0.5)) {
    out <- rbind(out, row("quantile_clus2na", "", "", "", des, p, "acs_k3"))
    out <- rbind(out, row("quantile_clus2nasub", "stype == \"E\"", "", "", subset(des, stype == "E"), p, "acs_k3"))
}
out[out == "NaN"] <- "NA" # past the data: R prints NaN, issue15-tab.csv NA
write.csv(out, "tests/ref/issue15-quantile.csv", row.names = FALSE)
