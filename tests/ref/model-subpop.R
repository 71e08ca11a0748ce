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

split1 <- function(s) if (is.na(s) || s == "") character(0) else strsplit(s, " ")[[1]]
plus <- function(v) as.formula(paste0("~", paste(v, collapse = "+")))
f17 <- function(x) unname(ifelse(is.na(x) | is.nan(x), "", sprintf("%.17g", x)))

make_design <- function(cs) {
  d <- datasets[[cs$data]]
  ids <- if (cs$psu == "") ~1 else plus(split1(cs$psu))
  strata <- if (cs$strata == "") NULL else plus(split1(cs$strata))
  fpc <- if (cs$fpc == "") NULL else plus(split1(cs$fpc))
  for (v in c("stype", "awards", "yr_rnd")) d[[v]] <- factor(d[[v]])
  des <- if (cs$weight == "")
    svydesign(ids = ids, strata = strata, fpc = fpc, data = d, nest = TRUE)
  else
    svydesign(ids = ids, strata = strata, fpc = fpc, weights = plus(cs$weight), data = d, nest = TRUE)
  eval(parse(text = sprintf("subset(des, %s)", cs$subpop_r)))
}

our_names <- function(fit) {
  xl <- fit$xlevels
  sapply(names(coef(fit)), function(n) {
    parts <- strsplit(n, ":", fixed = TRUE)[[1]]
    parts <- sapply(parts, function(p) {
      for (v in names(xl)) for (l in xl[[v]])
        if (p == paste0(v, l)) return(paste0(v, "=", l))
      p
    })
    paste(parts, collapse = ":")
  }, USE.NAMES = FALSE)
}

rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE, row.names = NULL)
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  options(survey.lonely.psu = cs$lonely, survey.ultimate.cluster = cs$ultimate == "1")
  des <- make_design(cs)
  fam <- if (cs$family == "logit") quasibinomial() else gaussian()
  fml <- as.formula(cs$formula)
  fit <- svyglm(fml, design = des, family = fam)
  stopifnot(!any(is.na(coef(fit))))  # every level of a factor is in the subpopulation
  s <- summary(fit)$coefficients
  ci <- confint(fit)
  df <- fit$df.residual
  nm <- our_names(fit)
  for (k in seq_along(nm))
    add(case = cs$id, part = "coef", term = nm[k], estimate = f17(s[k, 1]), se = f17(s[k, 2]),
        stat = f17(s[k, 3]), df = f17(df), p_value = f17(s[k, 4]), ci_low = f17(ci[k, 1]), ci_high = f17(ci[k, 2]))
  add(case = cs$id, part = "fit", term = "n", estimate = f17(length(fit$y)), se = "", stat = "",
      df = f17(degf(fit$survey.design)), p_value = "", ci_low = f17(fit$iter), ci_high = f17(fit$converged))
  for (w in split1(cs$wald)) {
    tt <- regTermTest(fit, as.formula(paste0("~", gsub(" ", "+", w))))
    add(case = cs$id, part = "wald", term = w, estimate = f17(tt$Ftest), se = f17(tt$df), stat = "",
        df = f17(tt$ddf), p_value = f17(tt$p), ci_low = "", ci_high = "")
  }
  if (length(split1(cs$wald)) > 1) {
    w <- split1(cs$wald)
    tt <- regTermTest(fit, as.formula(paste0("~", paste(w, collapse = "+"))))
    add(case = cs$id, part = "wald", term = paste(w, collapse = ","), estimate = f17(tt$Ftest), se = f17(tt$df),
        stat = "", df = f17(tt$ddf), p_value = f17(tt$p), ci_low = "", ci_high = "")
  }
  if (cs$margins != "") {
    g <- cs$margins
    tl <- attr(terms(fml), "term.labels")
    rest <- setdiff(tl, g)
    adj <- svyglm(as.formula(paste(deparse(fml[[2]]), "~", if (length(rest)) paste(rest, collapse = "+") else "1")),
                  design = des, family = fam)
    pm <- svypredmeans(adj, as.formula(paste0("~", g)))
    V <- vcov(pm)
    levs <- levels(des$variables[[g]])
    est <- coef(pm)[levs]; V <- V[levs, levs]
    z <- qnorm(0.975)
    for (k in seq_along(levs)) {
      se <- sqrt(V[k, k])
      add(case = cs$id, part = "margin", term = paste0(g, "=", levs[k]), estimate = f17(est[k]), se = f17(se),
          stat = f17(est[k] / se), df = "", p_value = "", ci_low = f17(est[k] - z * se), ci_high = f17(est[k] + z * se))
    }
    for (k in seq_along(levs)[-1]) {
      cv <- rep(0, length(levs)); cv[k] <- 1; cv[1] <- -1
      names(cv) <- levs
      con <- svycontrast(pm, cv)
      d <- coef(con); se <- SE(con)
      add(case = cs$id, part = "diff", term = paste0(g, "=", levs[k]), estimate = f17(d), se = f17(se),
          stat = f17(d / se), df = "", p_value = f17(2 * pnorm(-abs(d / se))),
          ci_low = f17(d - z * se), ci_high = f17(d + z * se))
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/ref/model-subpop.csv", row.names = FALSE)
