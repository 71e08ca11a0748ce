# Reference values for svy-model --subpop: R survey's svyglm on subset designs
# (subset(design, EXPR): the rows outside stay in the design with weight 0),
# summary/confint (df = degf(subset design without the NA rows) + 1 - rank),
# svypredmeans on the subset fit and regTermTest.
# Run from the repository root after tests/ref/model-api.R (which writes the
# data tests/data/model/api*.csv):  Rscript tests/ref/model-subpop.R
# Writes tests/ref/model-subpop-cases.csv (model-cases.csv's columns, then
# subpop in svy's syntax and subpop_r in R's) and tests/ref/model-subpop.csv
# (model-api.csv's layout, 17 digits).
suppressPackageStartupMessages(library(survey))
options(survey.adjust.domain.lonely = FALSE)
datasets <- list()
for (nm in c("apistrat", "apiclus1", "apiclus2", "apistratna"))
  datasets[[nm]] <- read.csv(sprintf("tests/data/model/%s.csv", nm), stringsAsFactors = FALSE, na.strings = "")

# No commas or double quotes in a field: the file is read by shell scripts too.
cases <- read.csv(quote = "", text = "
id,data,weight,strata,psu,fpc,ultimate,lonely,family,formula,ref,margins,wald,subpop,subpop_r
sp_s_logit,apistrat,pw,stype,,fpc,0,fail,logit,awards ~ api00 + yr_rnd + ell,,yr_rnd,api00 ell,stype == 'E',stype == 'E'
sp_s_linear,apistrat,pw,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,stype,meals > 30 & awards == 'Yes',meals > 30 & awards == 'Yes'
sp_s_not,apistrat,pw,stype,,fpc,0,fail,logit,awards ~ api00 + stype,,stype,stype,!(stype == 'H' & api00 < 650),!(stype == 'H' & api00 < 650)
sp_s_droplevel,apistrat,pw,stype,,fpc,0,fail,logit,awards ~ api00 + stype,,,stype,stype != 'E',stype != 'E'
sp_na_linear,apistratna,pw0,stype,,fpc,0,fail,linear,api00 ~ meals + stype,,stype,stype,!(ell >= 20),!(ell >= 20)
sp_na_or,apistratna,pw0,stype,,fpc,0,fail,logit,awards ~ api00 + stype,,,stype,ell < 30 | stype == 'H',ell < 30 | stype == 'H'
sp_na_model,apistratna,pw0,stype,,fpc,0,fail,linear,api00 ~ ell + meals,,,ell,mobility <= 20,mobility <= 20
sp_c1_logit,apiclus1,pw,,dnum,fpc,0,fail,logit,awards ~ api00 + yr_rnd,,yr_rnd,,stype == 'E',stype == 'E'
sp_c1_linear,apiclus1,pw,,dnum,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,stype,api00 > 600,api00 > 600
sp_c2_logit,apiclus2,pw,,dnum snum,fpc1 fpc2,0,fail,logit,awards ~ api00 + stype,,stype,stype,meals < 60,meals < 60
sp_c2_linear,apiclus2,pw,,dnum snum,fpc1 fpc2,0,fail,linear,api00 ~ ell + meals,,,ell meals,stype != 'H',stype != 'H'
sp_c2_ultimate,apiclus2,pw,,dnum snum,fpc1 fpc2,1,fail,linear,api00 ~ ell + meals + stype,,stype,,emer > 10,emer > 10
", stringsAsFactors = FALSE, colClasses = "character")
write.csv(cases, "tests/ref/model-subpop-cases.csv", row.names = FALSE, quote = FALSE)

source("tests/ref/model-common.R")

for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  options(survey.lonely.psu = cs$lonely, survey.ultimate.cluster = cs$ultimate == "1")
  des <- make_design(cs)
  fam <- if (cs$family == "logit") quasibinomial() else gaussian()
  fml <- as.formula(cs$formula)
  fit <- svyglm(fml, design = des, family = fam)
  stopifnot(!any(is.na(coef(fit))))  # every level of a factor is in the subpopulation
  add_fit(cs, des, fam, fml, fit)
}
out <- do.call(rbind, rows)
write.csv(out, "tests/ref/model-subpop.csv", row.names = FALSE)
