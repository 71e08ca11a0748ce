# Reference values for svy-model: R survey's svyglm (gaussian, quasibinomial),
# vcov/summary/confint, svypredmeans with its differences from the reference
# level (svycontrast), and regTermTest, on R's api data.
# Run from the repository root:  Rscript tests/ref/model-api.R
# Writes the inputs tests/data/model/api{strat,clus1,clus2}.csv, the cases
# tests/ref/model-cases.csv (one design and model per case, in svy-model's
# syntax) and R's numbers tests/ref/model-api.csv (17 digits).
# Term names are written as svy-model writes them: factor levels as VAR=LEVEL.
suppressPackageStartupMessages(library(survey))
data(api)
options(survey.adjust.domain.lonely = FALSE)

yn <- function(f) as.character(f)
common <- function(d) data.frame(
  snum = d$snum, dnum = d$dnum, stype = as.character(d$stype), pw = d$pw,
  api00 = d$api00, ell = d$ell, meals = d$meals, mobility = d$mobility,
  avg_ed = d$avg.ed, awards = yn(d$awards), yr_rnd = yn(d$yr.rnd),
  emer = d$emer, dgroup = d$dnum %% 4, stringsAsFactors = FALSE)
strat <- common(apistrat); strat$fpc <- apistrat$fpc
clus1 <- common(apiclus1); clus1$fpc <- apiclus1$fpc
# artificial strata over the 15 districts (tests/ref/vtotals-api.R): "c" holds one PSU
clus1$lstr <- ifelse(clus1$dnum < 190, "a", ifelse(clus1$dnum < 420, "b", ifelse(clus1$dnum == 437, "c", "d")))
clus2 <- common(apiclus2); clus2$fpc1 <- apiclus2$fpc1; clus2$fpc2 <- apiclus2$fpc2
# a copy of apistrat with missing values in the model's columns and 5 zero weights
stratna <- strat
set.seed(17)
stratna$ell[sample(nrow(stratna), 9)] <- NA
stratna$awards[sample(nrow(stratna), 6)] <- NA
stratna$pw0 <- stratna$pw; stratna$pw0[c(3, 50, 77, 120, 199)] <- 0
datasets <- list(apistrat = strat, apiclus1 = clus1, apiclus2 = clus2, apistratna = stratna)
for (nm in names(datasets))
  write.csv(datasets[[nm]], sprintf("tests/data/model/%s.csv", nm), row.names = FALSE, na = "")

cases <- read.csv(text = "
id,data,weight,strata,psu,fpc,ultimate,lonely,family,formula,ref,margins,wald
s_logit,apistrat,pw,stype,,fpc,0,fail,logit,awards ~ stype + api00 + yr_rnd,,stype,stype
s_linear,apistrat,pw,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,ell meals
s_inter,apistrat,pw,stype,,fpc,0,fail,linear,api00 ~ stype*ell + meals,,,stype:ell
s_logit_inter,apistrat,pw,stype,,fpc,0,fail,logit,awards ~ stype*yr_rnd + api00,,,stype:yr_rnd
s_noint,apistrat,pw,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype - 1,,,
s_ref,apistrat,pw,stype,,fpc,0,fail,logit,awards ~ stype + api00 + yr_rnd,stype=M,stype,stype
s_factor,apistrat,pw,,,,0,fail,linear,api00 ~ factor(dgroup) + ell,,,
s_wonly,apistrat,pw,,,,0,fail,logit,awards ~ ell + meals + mobility,,,ell mobility
c1_logit,apiclus1,pw,,dnum,fpc,0,fail,logit,awards ~ stype + api00 + yr_rnd,,stype,stype
c1_linear,apiclus1,pw,,dnum,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,stype
c1_missing,apiclus1,pw,,dnum,fpc,0,fail,linear,api00 ~ ell + meals + avg_ed,,,avg_ed
c1_missing_logit,apiclus1,pw,,dnum,fpc,0,fail,logit,awards ~ avg_ed + stype,,,
c2_logit,apiclus2,pw,,dnum snum,fpc1 fpc2,0,fail,logit,awards ~ stype + api00 + yr_rnd,,stype,stype
c2_linear,apiclus2,pw,,dnum snum,fpc1 fpc2,0,fail,linear,api00 ~ ell + meals + stype,,stype,stype
c2_ultimate,apiclus2,pw,,dnum snum,fpc1 fpc2,1,fail,linear,api00 ~ ell + meals + stype,,,
c2_fpcweights,apiclus2,,,dnum snum,fpc1 fpc2,0,fail,logit,awards ~ ell + meals,,,
na_linear,apistratna,pw0,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype,,,ell
na_logit,apistratna,pw0,stype,,fpc,0,fail,logit,awards ~ ell + stype + api00,,,
", stringsAsFactors = FALSE, colClasses = "character")
write.csv(cases, "tests/ref/model-cases.csv", row.names = FALSE, quote = FALSE)

source("tests/ref/model-common.R")

for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  options(survey.lonely.psu = cs$lonely, survey.ultimate.cluster = cs$ultimate == "1")
  des <- make_design(cs)
  fam <- if (cs$family == "logit") quasibinomial() else gaussian()
  fml <- as.formula(cs$formula)
  fit <- svyglm(fml, design = des, family = fam)
  add_fit(cs, des, fam, fml, fit)
}
out <- do.call(rbind, rows)
write.csv(out, "tests/ref/model-api.csv", row.names = FALSE)
