# Reference values for svy-model --calibrated-to (issue 16): R survey's
# svyglm on designs passed through rake() and postStratify(), whose
# svy.varcoef hands the influence functions (estfun %*% Ainv, zero in the
# rows glm dropped for a missing value) to svyrecvar with the design's
# postStrata: each column is replaced by its calibration residuals before
# the multistage variance.  Also regTermTest and svypredmeans (whose svymean
# of the predictions is calibrated the same way).
# Run from the repository root after tests/ref/model-api.R (which writes the
# data tests/data/model/api*.csv):  Rscript tests/ref/model-cal.R
# Writes tests/data/model/cal-*.csv (the data with R's calibrated weight wc,
# 17 digits: R's doubles), tests/ref/model-cal-cases.csv (model-subpop-cases'
# columns, then the margin files, space separated, relative to tests/data)
# and tests/ref/model-cal.csv (model-api.csv's layout).
#
# Rows with a missing value: glm drops them and design[-nas, ] on a
# calibrated design keeps them with weight 0 (`[.survey.design2`), so
# svy.varcoef pads their influence with 0 and the calibration gives them a
# residual.  R's svypredmeans then returns NA (it predicts for every row of
# the design); predmeans_na below is its code with those predictions left
# out of svymean (na.rm = TRUE, which on a calibrated design sets them to 0
# with weight 0) and of the gradient: the margins over the model's rows, as
# svy-model and svy-model's other references define them.
suppressPackageStartupMessages(library(survey))
options(survey.adjust.domain.lonely = FALSE)
tight <- list(maxit = 200, epsilon = 1e-13)
datasets <- list()
for (nm in c("apistrat", "apiclus1", "apiclus2"))
  datasets[[nm]] <- read.csv(sprintf("tests/data/model/%s.csv", nm), stringsAsFactors = FALSE, na.strings = "")
num <- function(x) trimws(formatC(as.numeric(x), digits = 17, format = "g"))
pop.stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.yr <- data.frame(yr_rnd = c("No", "Yes"), Freq = c(5300, 894)) # tests/ref/cal-api.R's margins
m_stype <- "cal-margins/stype.csv"
m_yr <- "cal-margins/yr_rnd.csv"
stopifnot(all(read.csv("tests/data/cal-margins/stype.csv")$total == pop.stype$Freq),
          all(read.csv("tests/data/cal-margins/yr_rnd.csv")$total == pop.yr$Freq))

# The calibrated data sets: the weight column wc is R's calibrated weight.
base <- list()
mk <- function(name, d, ids, strata, fpc, cal) {
  d$stype <- factor(d$stype); d$yr_rnd <- factor(d$yr_rnd); d$awards <- factor(d$awards)
  des <- svydesign(ids = ids, strata = strata, fpc = fpc, weights = ~pw, data = d, nest = TRUE)
  des <- cal(des)
  out <- d
  out$wc <- num(weights(des))
  for (v in c("stype", "yr_rnd", "awards")) out[[v]] <- as.character(out[[v]])
  write.csv(out, sprintf("tests/data/model/%s.csv", name), row.names = FALSE, na = "")
  base[[name]] <<- des
}
rake2 <- function(des) rake(des, list(~stype, ~yr_rnd), list(pop.stype, pop.yr), control = tight)
ps1 <- function(des) postStratify(des, ~stype, pop.stype)
mk("cal-strat", datasets$apistrat, ~1, ~stype, ~fpc, rake2)
# missing values in the model's columns (ell: 9 rows, awards: 6)
na <- datasets$apistrat
set.seed(16)
na$ell[sample(nrow(na), 9)] <- NA
na$awards[sample(nrow(na), 6)] <- NA
mk("cal-stratna", na, ~1, ~stype, ~fpc, rake2)
mk("cal-clus1", datasets$apiclus1, ~dnum, NULL, ~fpc, ps1)
# post-stratified with three weights of 0 (R: weight 1 in the residual) and ell missing on 5 rows
z1 <- datasets$apiclus1
z1$pw[c(3, 20, 50)] <- 0
z1$ell[c(7, 30, 31, 90, 150)] <- NA
mk("cal-clus1na", z1, ~dnum, NULL, ~fpc, ps1)
mk("cal-clus2", datasets$apiclus2, ~dnum + snum, NULL, ~fpc1 + fpc2, rake2)

cases <- read.csv(quote = "", text = "
id,data,weight,strata,psu,fpc,ultimate,lonely,family,formula,ref,margins,wald,subpop,subpop_r,calibrated
cal_s_logit,cal-strat,wc,stype,,fpc,0,fail,logit,awards ~ api00 + ell + yr_rnd,,stype,ell yr_rnd,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_s_linear,cal-strat,wc,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype + yr_rnd,,yr_rnd,meals stype,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_s_inter,cal-strat,wc,stype,,fpc,0,fail,linear,api00 ~ ell * stype + mobility,stype=H,,ell:stype,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_na_linear,cal-stratna,wc,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,ell,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_na_logit,cal-stratna,wc,stype,,fpc,0,fail,logit,awards ~ api00 + ell,,yr_rnd,api00 ell,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_s_sub,cal-strat,wc,stype,,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,stype,yr_rnd == 'No',yr_rnd == 'No',cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_c1_logit,cal-clus1,wc,,dnum,fpc,0,fail,logit,awards ~ api00 + meals,,stype,api00,,,cal-margins/stype.csv
cal_c1_linear,cal-clus1,wc,,dnum,fpc,0,fail,linear,api00 ~ ell + stype,,stype,stype,,,cal-margins/stype.csv
cal_c1_na,cal-clus1na,wc,,dnum,fpc,0,fail,linear,api00 ~ ell + meals + stype,,stype,ell,,,cal-margins/stype.csv
cal_c1_na_logit,cal-clus1na,wc,,dnum,fpc,0,fail,logit,awards ~ ell + yr_rnd,,yr_rnd,ell,,,cal-margins/stype.csv
cal_c2_linear,cal-clus2,wc,,dnum snum,fpc1 fpc2,0,fail,linear,api00 ~ ell + meals + stype,,stype,meals,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
cal_c2_ultimate,cal-clus2,wc,,dnum snum,fpc1 fpc2,1,fail,logit,awards ~ api00 + stype,,stype,stype,,,cal-margins/stype.csv cal-margins/yr_rnd.csv
", stringsAsFactors = FALSE, colClasses = "character")
write.csv(cases, "tests/ref/model-cal-cases.csv", row.names = FALSE, quote = FALSE)

source("tests/ref/model-common.R")

# svypredmeans (R 4.1.1's survey) with the rows of a missing value left out.
predmeans_na <- function(adjustmodel, groupfactor) {
  design <- eval(bquote(update(adjustmodel$survey.design, .groupfactor = .(groupfactor[[2]]))))
  groups <- unique(model.frame(design)$.groupfactor)
  groups <- groups[!is.na(groups)]
  model <- update(adjustmodel, . ~ . + .groupfactor, design = design)
  w <- weights(design, "sampling")
  fits <- matrix(nrow = NROW(design), ncol = length(groups))
  dg_deta <- matrix(nrow = length(coef(model)), ncol = length(groups))
  ok <- !(seq_len(NROW(design)) %in% model$na.action) # the rows of the model
  for (i in seq_along(groups)) {
    mf <- model.frame(design)
    mf$.groupfactor <- groups[i]
    eta <- predict(model, newdata = mf[ok, ], type = "link")
    mu <- model$family$linkinv(eta)
    fits[, i] <- NA
    fits[ok, i] <- mu
    mm <- model.matrix(terms(model), mf[ok, ])
    dg_deta[, i] <- t(colSums(w[ok] * model$family$mu.eta(eta) * mm)) / sum(w[ok])
  }
  colnames(fits) <- as.character(groups)
  cond <- svymean(fits, design, na.rm = TRUE)
  addvar <- t(dg_deta) %*% vcov(model) %*% dg_deta
  attr(cond, "var") <- addvar + attr(cond, "var")
  cond
}

for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  options(survey.lonely.psu = cs$lonely, survey.ultimate.cluster = cs$ultimate == "1")
  des <- base[[cs$data]]
  if (cs$ref != "") {
    kv <- strsplit(cs$ref, "=")[[1]]
    des$variables[[kv[1]]] <- relevel(des$variables[[kv[1]]], kv[2])
  }
  if (cs$subpop_r != "") des <- eval(parse(text = sprintf("subset(des, %s)", cs$subpop_r)))
  stopifnot(!is.null(des$postStrata))
  fam <- if (cs$family == "logit") quasibinomial() else gaussian()
  fml <- as.formula(cs$formula)
  fit <- svyglm(fml, design = des, family = fam)
  stopifnot(!any(is.na(coef(fit))))
  if (length(fit$na.action)) {
    svypredmeans <- predmeans_na
  } else {
    svypredmeans <- survey::svypredmeans
  }
  add_fit(cs, des, fam, fml, fit)
}
out <- do.call(rbind, rows)
write.csv(out, "tests/ref/model-cal.csv", row.names = FALSE)
