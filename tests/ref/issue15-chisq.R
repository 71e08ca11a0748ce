# svy-tab --test on R x C tables (issue 15): R's svychisq(~outcome + var,
# design, statistic = "F" and "Chisq") for share outcomes of more than two
# levels, by variables of more than two levels, missing values in the outcome
# and in the tested variable (R's N and nu count those rows), zero weights, a
# subset (--subpop), a combination of another by variable (svychisq on
# subset(design, other == value)), on apistrat (strata), apiclus1 (one-stage
# clusters with fpc), apiclus2 (two stages with fpc) and the sample study
# (strata, clusters, weights, fpc).
# Writes tests/ref/issue15-chisq.csv: case, args (svy-tab's design, outcome,
# --by and --subpop arguments; $DATA the data folder), var (the tested by
# variable), outcome, other (the other by variable's value, empty: none),
# method (f or chisq), statistic (F, or the unadjusted X^2 R prints under
# "Chisq"), ndf, ddf (empty for chisq), p, N, nu.
# Run from the repository root: Rscript tests/ref/issue15-chisq.R
suppressMessages(library(survey))
rd <- function(f) read.csv(f, stringsAsFactors = FALSE, na.strings = "")
strat <- rd("tests/data/apistrat.csv")
clus1 <- rd("tests/data/apiclus1.csv")
clus2 <- rd("tests/data/apiclus2.csv")
nsfe <- rd("tests/data/nsfe-2021.csv")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
dclus1z <- svydesign(id = ~dnum, weights = ~pw0, data = clus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
dnsfe <- svydesign(id = ~city, strata = ~province, weights = ~weight, fpc = ~fpc, data = nsfe)
a_strat <- "-s stype -w pw --fpc fpc $DATA/apistrat.csv"
a_clus1 <- "-p dnum -w pw --fpc fpc $DATA/apiclus1.csv"
a_clus1z <- "-p dnum -w pw0 --fpc fpc $DATA/apiclus1.csv"
a_clus2 <- "-p dnum,snum --fpc fpc1,fpc2 $DATA/apiclus2.csv"
a_nsfe <- "-s province -p city -w weight --fpc fpc $DATA/nsfe-2021.csv"

f17 <- function(v) ifelse(is.na(v), "", trimws(formatC(v, digits = 17, format = "g")))
rows <- list()
one <- function(case, args, d, outcome, var, other = "") {
  fo <- as.formula(paste0("~", outcome, "+", var))
  N <- nrow(d$variables)
  nu <- length(unique(d$cluster[, 1])) - length(unique(d$strata[, 1]))
  f <- svychisq(fo, d, statistic = "F")
  ch <- svychisq(fo, d, statistic = "Chisq")
  rows[[length(rows) + 1]] <<- c(case, args, var, outcome, other, "f", f17(f$statistic), f17(f$parameter[1]),
                                 f17(f$parameter[2]), f17(f$p.value), N, nu)
  rows[[length(rows) + 1]] <<- c(case, args, var, outcome, other, "chisq", f17(ch$statistic),
                                 f17(ch$parameter[1]), "", f17(ch$p.value), N, nu)
}
# outcome of 3 levels by a 2-level variable, each design
one("strat_stype_awards", paste("--share stype -b awards", a_strat), dstrat, "stype", "awards")
one("clus1_stype_awards", paste("--share stype -b awards", a_clus1), dclus1, "stype", "awards")
one("clus2_stype_awards", paste("--share stype -b awards", a_clus2), dclus2, "stype", "awards")
# 8 to 10 levels with missing outcomes and empty cells by a 2-level
# variable; 3 x 4 with an empty cell
one("strat_acsk3_awards", paste("--share acs_k3 -b awards", a_strat), dstrat, "acs_k3", "awards")
one("clus1_acsk3_awards", paste("--share acs_k3 -b awards", a_clus1), dclus1, "acs_k3", "awards")
one("clus2_acsk3_awards", paste("--share acs_k3 -b awards", a_clus2), dclus2, "acs_k3", "awards")
one("clus1_stype_lstr", paste("--share stype -b lstr", a_clus1), dclus1, "stype", "lstr")
# the tested variable missing (strata without clusters: rows are the PSUs)
one("strat_schwide_hiacs", paste("-r sch_wide -b hi_acs", a_strat), dstrat, "sch_wide", "hi_acs")
one("clus1_schwide_hiacs", paste("-r sch_wide -b hi_acs", a_clus1), dclus1, "sch_wide", "hi_acs")
one("clus2_schwide_hiacs", paste("-r sch_wide -b hi_acs", a_clus2), dclus2, "sch_wide", "hi_acs")
# zero weights; a subset
one("clus1z_stype_awards", paste("--share stype -b awards", a_clus1z), dclus1z, "stype", "awards")
one("clus1_sub_stype_awards", paste("--share stype -b awards --subpop 'api00 > 600'", a_clus1),
    subset(dclus1, api00 > 600), "stype", "awards")
# the sample study: missing values in both variables, 3 x 2, 4 x 3, a rate
one("nsfe_labour_gender", paste("--share labour -b gender", a_nsfe), dnsfe, "labour", "gender")
one("nsfe_hukou_labour", paste("--share hukou -b labour", a_nsfe), dnsfe, "hukou", "labour")
one("nsfe_pension_gender", paste("-r pension_emp -b gender", a_nsfe), dnsfe, "pension_emp", "gender")
# within each category (svychisq on the category's subset)
for (c in sort(unique(nsfe$category)))
  one("nsfe_labour_gender_bycat", paste("--share labour -b category,gender", a_nsfe),
      eval(bquote(subset(dnsfe, category == .(c)))), "labour", "gender", c)

out <- do.call(rbind, rows)
colnames(out) <- c("case", "args", "var", "outcome", "other", "method", "statistic", "ndf", "ddf", "p", "N", "nu")
write.csv(out, "tests/ref/issue15-chisq.csv", row.names = FALSE)
