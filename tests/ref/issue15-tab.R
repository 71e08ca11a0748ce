# Reference values for wiring issue 15 into svy-tab (--subpop, --ratio,
# --diff, --test, --quantile): R survey on the same CSV files as
# tests/ref/tab-api.R (tests/data/apistrat.csv, apiclus1.csv, apiclus2.csv;
# read back from the files, so R and svy-tab see the same doubles).
# Run from the repository root, after tab-api.R:  Rscript tests/ref/issue15-tab.R
# Writes tests/ref/issue15-tab.csv, one estimate a row:
#   case,data,strata,psu,weight,fpc,subpop,by,domain,statistic,variable,p,
#   estimate,se,ci_low,ci_high,df,extra
# subpop is written in svy's --subpop syntax (the R expression is beside it
# in this script).  ci_* use df = degf of the subset design (R's svyby and
# svyquantile on a subset: the domain's df), except where extra says
# otherwise; NA = not applicable.
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
add <- function(case, dn, subpop, by, domain, stat, var, p, est, se, lo, hi, df, extra = "") {
  rows[[length(rows) + 1]] <<- c(case, des[[dn]], subpop, by, domain, stat, var, f17(p), f17(est), f17(se),
                                 f17(lo), f17(hi), f17(df), extra)
}

# --subpop: mean, total and rate on subset(design, EXPR); df = degf(subset).
sub_case <- function(case, dn, d, rexpr, svyexpr) {
  s <- eval(bquote(subset(d, .(rexpr))))
  df <- degf(s)
  for (v in c("api00", "acs_k3")) {
    m <- svymean(as.formula(paste0("~", v)), s, na.rm = TRUE)
    ci <- confint(m, df = df)
    add(case, dn, svyexpr, "", "", "mean", v, NA, coef(m), SE(m), ci[1], ci[2], df)
  }
  t <- svytotal(~enroll, s)
  ci <- confint(t, df = df)
  add(case, dn, svyexpr, "", "", "total", "enroll", NA, coef(t), SE(t), ci[1], ci[2], df)
  r <- svymean(~sch_wide, s)
  ci <- confint(r, df = df)
  add(case, dn, svyexpr, "", "", "rate", "sch_wide", NA, coef(r), SE(r), ci[1], ci[2], df, "wald CI")
}
sub_case("sub_strat", "strat", dstrat, quote(api00 >= 600 & stype != "H"), "api00 >= 600 & stype != \"H\"")
# NA in acs_k3: a comparison with NA is NA and the row is out (R's subset)
sub_case("sub_strat_na", "strat", dstrat, quote(!(acs_k3 < 20)), "!(acs_k3 < 20)")
sub_case("sub_clus1", "clus1", dclus1, quote(stype %in% c("E", "M") | awards == "No"),
         "stype in {\"E\", \"M\"} | awards == \"No\"")
sub_case("sub_clus2", "clus2", dclus2, quote(enroll > 300), "enroll > 300")

# --subpop with --by: svyby on the subset design.
s <- subset(dclus1, api00 > 600)
b <- svyby(~api00, ~stype, s, svymean)
for (i in seq_len(nrow(b))) add("sub_clus1_by", "clus1", "api00 > 600", "stype", b$stype[i], "mean", "api00", NA,
                                b$api00[i], b$se[i], NA, NA, degf(s))

# --ratio NUM/DEN: svyratio, whole sample and by domain (svyby); CI with
# df = degf(design) of the whole design (R's confint on svyratio uses Inf:
# extra "ci df=Inf" rows give those).
rat_case <- function(case, dn, d, num, den) {
  r <- svyratio(as.formula(paste0("~", num)), as.formula(paste0("~", den)), d)
  df <- degf(d)
  est <- coef(r); se <- SE(r)
  q <- qt(0.975, df)
  add(case, dn, "", "", "", "ratio", paste0(num, "/", den), NA, est, se, est - q * se, est + q * se, df)
  ci <- confint(r)
  add(case, dn, "", "", "", "ratio", paste0(num, "/", den), NA, est, se, ci[1], ci[2], Inf, "ci df=Inf")
  b <- svyby(as.formula(paste0("~", num)), ~stype, d, svyratio, denominator = as.formula(paste0("~", den)))
  for (i in seq_len(nrow(b))) add(case, dn, "", "stype", b$stype[i], "ratio", paste0(num, "/", den), NA,
                                  coef(b)[i], SE(b)[i], NA, NA, NA)
}
rat_case("ratio_strat", "strat", dstrat, "api00", "enroll")
rat_case("ratio_clus1", "clus1", dclus1, "enroll", "api00")
rat_case("ratio_clus2", "clus2", dclus2, "api00", "enroll")

# --diff stype (reference E, the lowest level): svyby(covmat = TRUE) +
# svycontrast, CI and p with df = degf(design).
diff_case <- function(case, dn, d, var, fun) {
  b <- svyby(as.formula(paste0("~", var)), ~stype, d, fun, covmat = TRUE)
  lv <- as.character(b$stype); df <- degf(d)
  for (k in 2:length(lv)) {
    cvec <- rep(0, length(lv)); cvec[k] <- 1; cvec[1] <- -1
    con <- svycontrast(b, cvec)
    est <- coef(con); se <- SE(con); q <- qt(0.975, df)
    add(case, dn, "", "stype", paste0(lv[k], "-", lv[1]), "difference", var, NA, est, se, est - q * se,
        est + q * se, df, sprintf("p=%s", f17(2 * pt(-abs(est / se), df))))
  }
}
diff_case("diff_strat_api00", "strat", dstrat, "api00", svymean)
diff_case("diff_clus1_api00", "clus1", dclus1, "api00", svymean)
diff_case("diff_clus1_schwide", "clus1", dclus1, "sch_wide", svymean)
diff_case("diff_clus1_enroll_total", "clus1", dclus1, "enroll", svytotal)
diff_case("diff_clus2_api00", "clus2", dclus2, "api00", svymean)

# --test stype: svychisq(~outcome + stype) F and Chisq.
test_case <- function(case, dn, d, var) {
  f <- svychisq(as.formula(paste0("~", var, "+stype")), d, statistic = "F")
  ch <- svychisq(as.formula(paste0("~", var, "+stype")), d, statistic = "Chisq")
  add(case, dn, "", "stype", "", "test_f", var, NA, f$statistic, NA, NA, NA, NA,
      sprintf("ndf=%s ddf=%s p=%s", f17(f$parameter[1]), f17(f$parameter[2]), f17(f$p.value)))
  add(case, dn, "", "stype", "", "test_chisq", var, NA, ch$statistic, NA, NA, NA, NA,
      sprintf("df=%s p=%s", f17(ch$parameter[1]), f17(ch$p.value)))
}
test_case("test_strat_awards", "strat", dstrat, "awards")
test_case("test_clus1_schwide", "clus1", dclus1, "sch_wide")
test_case("test_clus2_yrrnd", "clus2", dclus2, "yr_rnd")

# --quantile api00 --probs 0.25,0.5,0.75, whole sample and by stype
# (svyby: each domain's svyquantile on its subset, df = the domain's degf).
q_case <- function(case, dn, d) {
  for (p in c(0.25, 0.5, 0.75)) {
    q <- svyquantile(~api00, d, p)$api00
    add(case, dn, "", "", "", "quantile", "api00", p, q[1, 1], q[1, 4], q[1, 2], q[1, 3], degf(d))
    for (s in sort(unique(d$variables$stype))) {
      ds <- eval(bquote(subset(d, stype == .(s))))
      q <- svyquantile(~api00, ds, p)$api00
      add(case, dn, "", "stype", s, "quantile", "api00", p, q[1, 1], q[1, 4], q[1, 2], q[1, 3], degf(ds))
    }
  }
}
q_case("quantile_strat", "strat", dstrat)
q_case("quantile_clus1", "clus1", dclus1)

out <- do.call(rbind, rows)
colnames(out) <- c("case", "data", "strata", "psu", "weight", "fpc", "subpop", "by", "domain", "statistic",
                   "variable", "p", "estimate", "se", "ci_low", "ci_high", "df", "extra")
write.csv(out, "tests/ref/issue15-tab.csv", row.names = FALSE)
