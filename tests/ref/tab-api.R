# Reference values for svy-tab: R survey on R's api data and on the NSFE-2021
# sample (tests/data/nsfe-2021.csv: samples/nsfe-2021-raw.csv cleaned by
# svy-clean -c codebooks/nsfe-2021, the design and outcome columns).
# Run from the repository root:  Rscript tests/ref/tab-api.R
# Writes tests/data/api{strat,clus1,clus2}.csv (the inputs) and
# tests/ref/tab-cases.csv (one design per case) and tests/ref/tab-api.csv
# (every estimate, se, ci, df, deff, n, weighted_n), numbers with 17 digits.
suppressPackageStartupMessages(library(survey))
data(api)
options(survey.adjust.domain.lonely = FALSE)

yn01 <- function(f) as.numeric(as.character(f) == "Yes")
common <- function(d) data.frame(
  snum = d$snum, dnum = d$dnum, stype = as.character(d$stype), pw = d$pw,
  api00 = d$api00, enroll = d$enroll, acs_k3 = d$acs.k3,
  sch_wide = yn01(d$sch.wide), comp_imp = yn01(d$comp.imp),
  awards = as.character(d$awards), yr_rnd = as.character(d$yr.rnd),
  hi_acs = as.numeric(d$acs.k3 > 19), stringsAsFactors = FALSE)

strat <- common(apistrat)
strat$fpc <- apistrat$fpc
nh <- table(apistrat$stype)
strat$fpcfrac <- as.numeric(nh[as.character(apistrat$stype)]) / apistrat$fpc
clus1 <- common(apiclus1)
clus1$fpc <- apiclus1$fpc
# Artificial strata over the 15 districts: stratum "c" has a single PSU (437),
# and within domains several strata hold only one PSU with members.
clus1$lstr <- ifelse(clus1$dnum < 190, "a", ifelse(clus1$dnum < 420, "b",
              ifelse(clus1$dnum == 437, "c", "d")))
clus2 <- common(apiclus2)
clus2$fpc1 <- apiclus2$fpc1

wr <- function(d, f) write.csv(d, f, row.names = FALSE, na = "", quote = FALSE)
wr(strat, "tests/data/apistrat.csv")
wr(clus1, "tests/data/apiclus1.csv")
wr(clus2, "tests/data/apiclus2.csv")
# Estimate from the files as written, so R and svy-tab see the same doubles.
rd <- function(f) read.csv(f, stringsAsFactors = FALSE, na.strings = "")
datasets <- list(apistrat = rd("tests/data/apistrat.csv"), apiclus1 = rd("tests/data/apiclus1.csv"),
                 apiclus2 = rd("tests/data/apiclus2.csv"), "nsfe-2021" = rd("tests/data/nsfe-2021.csv"))

# One case = one design and one set of outcomes, as svy-tab would be asked.
cases <- list(
  list(id = "strat_dom", data = "apistrat", strata = "stype", psu = "", weight = "pw", fpc = "fpc",
       by = "comp_imp", rates = "sch_wide,hi_acs", means = "api00,acs_k3", totals = "enroll", shares = "stype",
       lonely = "fail", df = "domain", level = 95),
  list(id = "strat_frac", data = "apistrat", strata = "stype", psu = "", weight = "pw", fpc = "fpcfrac",
       by = "stype", rates = "sch_wide,awards=Yes", means = "api00", totals = "enroll",
       lonely = "fail", df = "domain", level = 95),
  list(id = "strat_all", data = "apistrat", strata = "stype", psu = "", weight = "pw", fpc = "fpc",
       by = "", rates = "sch_wide,hi_acs,yr_rnd=Yes", means = "api00,acs_k3", totals = "enroll",
       lonely = "fail", df = "domain", level = 95),
  list(id = "clus1", data = "apiclus1", strata = "", psu = "dnum", weight = "pw", fpc = "fpc",
       by = "stype", rates = "sch_wide,comp_imp,awards=Yes,awards=No", means = "api00", totals = "enroll",
       lonely = "fail", df = "domain", level = 95),
  list(id = "clus1_two", data = "apiclus1", strata = "", psu = "dnum", weight = "pw", fpc = "fpc",
       by = "stype,comp_imp", rates = "sch_wide", means = "api00", totals = "",
       lonely = "fail", df = "domain", level = 95),
  list(id = "clus1_full", data = "apiclus1", strata = "", psu = "dnum", weight = "pw", fpc = "fpc",
       by = "stype", rates = "sch_wide", means = "api00", totals = "",
       lonely = "fail", df = "full", level = 95),
  list(id = "clus2", data = "apiclus2", strata = "", psu = "dnum", weight = "pw", fpc = "fpc1",
       by = "stype", rates = "sch_wide,awards=Yes", means = "api00", totals = "enroll", shares = "yr_rnd",
       lonely = "fail", df = "domain", level = 90),
  list(id = "clus2_inf", data = "apiclus2", strata = "", psu = "dnum", weight = "pw", fpc = "",
       by = "stype", rates = "sch_wide", means = "api00", totals = "",
       lonely = "fail", df = "inf", level = 95),
  list(id = "clus2_df10", data = "apiclus2", strata = "", psu = "dnum", weight = "pw", fpc = "",
       by = "", rates = "sch_wide,comp_imp", means = "api00", totals = "",
       lonely = "fail", df = "10", level = 99)
)
nsfe_rates <- "pension_emp,pension_res,medical_emp,medical_res,injury,unemployment,maternity,might_stop,any_scheme"
cases[[length(cases) + 1]] <- list(id = "nsfe_cat", data = "nsfe-2021", strata = "province", psu = "city",
     weight = "weight", fpc = "fpc", by = "category", rates = nsfe_rates, means = "income", totals = "",
     shares = "labour", lonely = "fail", df = "domain", level = 95)
cases[[length(cases) + 1]] <- list(id = "nsfe_gender_hukou", data = "nsfe-2021", strata = "province", psu = "city",
     weight = "weight", fpc = "fpc", by = "gender,hukou", rates = nsfe_rates, means = "", totals = "",
     shares = "", lonely = "fail", df = "domain", level = 95)
cases[[length(cases) + 1]] <- list(id = "nsfe_all_full", data = "nsfe-2021", strata = "province", psu = "city",
     weight = "weight", fpc = "fpc", by = "", rates = nsfe_rates, means = "income", totals = "",
     shares = "category", lonely = "fail", df = "full", level = 90)
for (rule in c("remove", "certainty", "adjust", "average")) {
  cases[[length(cases) + 1]] <- list(id = paste0("lonely_", rule), data = "apiclus1", strata = "lstr",
       psu = "dnum", weight = "pw", fpc = "", by = "stype", rates = "sch_wide,awards=Yes",
       means = "api00", totals = "enroll", shares = "yr_rnd", lonely = rule, df = "domain", level = 95)
  cases[[length(cases) + 1]] <- list(id = paste0("lonely_all_", rule), data = "apiclus1", strata = "lstr",
       psu = "dnum", weight = "pw", fpc = "", by = "", rates = "sch_wide",
       means = "api00", totals = "enroll", lonely = rule, df = "domain", level = 95)
}

for (i in seq_along(cases)) if (is.null(cases[[i]]$shares)) cases[[i]]$shares <- ""
split1 <- function(s) if (s == "") character(0) else strsplit(s, ",")[[1]]
f17 <- function(x) ifelse(is.na(x) | is.nan(x), "", sprintf("%.17g", x))

make_design <- function(cs) {
  d <- datasets[[cs$data]]
  ids <- if (cs$psu == "") ~1 else as.formula(paste0("~", cs$psu))
  strata <- if (cs$strata == "") NULL else as.formula(paste0("~", cs$strata))
  fpc <- if (cs$fpc == "") NULL else as.formula(paste0("~", cs$fpc))
  svydesign(ids = ids, strata = strata, fpc = fpc, weights = as.formula(paste0("~", cs$weight)),
            data = d, nest = TRUE)
}

# The outcome columns a case asks for: rate COL, rate COL=VALUE (indicator), mean, total.
outcomes <- function(cs, d) {
  out <- list()
  for (r in split1(cs$rates)) {
    if (grepl("=", r)) {
      kv <- strsplit(r, "=")[[1]]
      v <- ifelse(is.na(d[[kv[1]]]) | d[[kv[1]]] == "", NA, as.numeric(d[[kv[1]]] == kv[2]))
    } else v <- d[[r]]
    out[[length(out) + 1]] <- list(name = r, kind = "rate", v = v)
  }
  # a share: every level of the column, as the rate of COL=level
  for (sh in split1(cs$shares)) {
    for (lev in sort(unique(na.omit(d[[sh]])))) {
      v <- ifelse(is.na(d[[sh]]), NA, as.numeric(d[[sh]] == lev))
      out[[length(out) + 1]] <- list(name = paste0(sh, "=", lev), kind = "rate", v = v)
    }
  }
  for (m in split1(cs$means)) out[[length(out) + 1]] <- list(name = m, kind = "mean", v = d[[m]])
  for (t in split1(cs$totals)) out[[length(out) + 1]] <- list(name = t, kind = "total", v = d[[t]])
  out
}

rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)

for (cs in cases) {
  options(survey.lonely.psu = cs$lonely)
  des <- make_design(cs)
  d <- des$variables
  outs <- outcomes(cs, d)
  for (o in outs) des$variables[[paste0(".y_", o$name)]] <- o$v
  byv <- split1(cs$by)
  dom <- if (length(byv)) do.call(paste, c(lapply(byv, function(b) as.character(d[[b]])), sep = "|")) else rep("", nrow(d))
  # a row with a missing by value is in the design but in no domain (svyby drops NA levels)
  if (length(byv)) dom[Reduce(`|`, lapply(byv, function(b) is.na(d[[b]])))] <- NA
  alpha <- 1 - cs$level / 100
  for (lev in sort(unique(na.omit(dom)))) {
    sub <- des[!is.na(dom) & dom == lev, ]
    dfv <- switch(cs$df, domain = degf(sub), full = degf(des), inf = Inf, as.numeric(cs$df))
    for (o in outs) {
      yname <- paste0(".y_", o$name)
      y <- sub$variables[[yname]]
      ok <- !is.na(y)
      n <- sum(ok)
      stopifnot(n > 0)
      wn <- sum(weights(sub)[ok])
      fml <- as.formula(paste0("~`", yname, "`"))
      if (o$kind == "total") {
        m <- svytotal(fml, sub, na.rm = TRUE, deff = TRUE)
      } else {
        m <- svymean(fml, sub, na.rm = TRUE, deff = TRUE)
      }
      est <- unname(coef(m)); se <- unname(SE(m)); de <- unname(deff(m))
      if (o$kind == "rate") {
        for (meth in c("logit", "wald", "beta", "wilson")) {
          if (meth == "wilson") {
            # Wilson score interval with n_eff = p(1-p)/se^2 and t on the design df.
            neff <- est * (1 - est) / se^2
            tq <- qt(1 - alpha / 2, dfv)
            ctr <- (est + tq^2 / (2 * neff)) / (1 + tq^2 / neff)
            hw <- tq / (1 + tq^2 / neff) * sqrt(est * (1 - est) / neff + tq^2 / (4 * neff^2))
            ci <- c(ctr - hw, ctr + hw)
          } else if (meth == "logit") {
            # svyciprop(method="logit") fits svyglm with glm's default tolerance,
            # which stops ~1e-8 short of the estimate.  The same interval from
            # a fit run to convergence is the reference; the default must agree
            # with it to 1e-6.
            cp <- suppressWarnings(svyciprop(fml, sub, method = "logit", level = cs$level / 100,
                                             df = dfv, na.rm = TRUE))
            fit <- suppressWarnings(svyglm(as.formula(paste0("`", yname, "`~1")), sub, family = quasibinomial,
                          control = glm.control(epsilon = 1e-15, maxit = 200)))
            ci <- as.numeric(plogis(confint(fit, 1, level = cs$level / 100, method = "Wald", ddf = dfv)))
            if (est > 0 && est < 1)
              stopifnot(isTRUE(all.equal(ci, unname(attr(cp, "ci")), tolerance = 1e-6)))
          } else if (meth == "beta") {
            # svyciprop(method="beta") takes its df from degf(design) whatever
            # df= says; svy-tab follows --df.  The same code with df substituted
            # is the reference, and equals svyciprop when df is the domain's.
            cp <- svyciprop(fml, sub, method = "beta", level = cs$level / 100, na.rm = TRUE)
            neff <- est * (1 - est) / se^2 * (qt(alpha / 2, nrow(sub) - 1) / qt(alpha / 2, dfv))^2
            ci <- c(qbeta(alpha / 2, neff * est, neff * (1 - est) + 1),
                    qbeta(1 - alpha / 2, neff * est + 1, neff * (1 - est)))
            if (cs$df == "domain" && est > 0 && est < 1)
              stopifnot(isTRUE(all.equal(ci, unname(attr(cp, "ci")), tolerance = 1e-12)))
          } else {
            rm <- if (meth == "wald") "mean" else meth
            cp <- svyciprop(fml, sub, method = rm, level = cs$level / 100, df = dfv, na.rm = TRUE)
            ci <- unname(attr(cp, "ci"))
          }
          add(case = cs$id, domain = lev, variable = o$name, kind = o$kind, ci = meth,
              estimate = f17(est), se = f17(se), ci_low = f17(ci[1]), ci_high = f17(ci[2]),
              df = f17(dfv), deff = f17(de), n = n, weighted_n = f17(wn))
        }
      } else {
        ci <- confint(m, level = cs$level / 100, df = dfv)
        add(case = cs$id, domain = lev, variable = o$name, kind = o$kind, ci = "wald",
            estimate = f17(est), se = f17(se), ci_low = f17(ci[1]), ci_high = f17(ci[2]),
            df = f17(dfv), deff = f17(de), n = n, weighted_n = f17(wn))
      }
    }
  }
  # svyby gives the same domain estimates as the subset loop above: check it here.
  if (length(byv) && cs$means != "") {
    mv <- split1(cs$means)[1]
    sb <- svyby(as.formula(paste0("~", mv)), as.formula(paste0("~", paste(byv, collapse = "+"))),
                des, svymean, na.rm = TRUE, deff = TRUE)
    for (i in seq_len(nrow(sb))) {
      lev <- paste(sapply(byv, function(b) as.character(sb[[b]][i])), collapse = "|")
      r <- Filter(function(x) x$case == cs$id && x$domain == lev && x$variable == mv, rows)[[1]]
      stopifnot(isTRUE(all.equal(as.numeric(r$se), unname(SE(sb)[i]), tolerance = 1e-13)))
      stopifnot(isTRUE(all.equal(as.numeric(r$deff), unname(deff(sb)[i]), tolerance = 1e-13)))
    }
  }
}

casedf <- do.call(rbind, lapply(cases, function(cs) as.data.frame(cs, stringsAsFactors = FALSE)))
casedf[] <- lapply(casedf, function(x) gsub(",", " ", x))  # lists: space-separated
write.csv(casedf, "tests/ref/tab-cases.csv", row.names = FALSE, na = "", quote = FALSE)
write.csv(do.call(rbind, rows), "tests/ref/tab-api.csv", row.names = FALSE, na = "", quote = FALSE)
