# Shared by tests/ref/tab-api.R and tests/ref/tab-random.R: R survey's numbers
# for svy-tab's cases (one design and a set of outcomes per case).
suppressPackageStartupMessages(library(survey))

split1 <- function(s) if (s == "") character(0) else strsplit(s, ",")[[1]]
f17 <- function(x) ifelse(is.na(x) | is.nan(x), "", sprintf("%.17g", x))

plus <- function(s) as.formula(paste0("~", gsub(",", "+", s)))
make_design <- function(cs, datasets) {
  d <- datasets[[cs$data]]
  ids <- if (cs$psu == "") ~1 else plus(cs$psu)
  strata <- if (cs$strata == "") NULL else plus(cs$strata)
  fpc <- if (cs$fpc == "") NULL else plus(cs$fpc)
  if (cs$weight == "")
    svydesign(ids = ids, strata = strata, fpc = fpc, data = d, nest = TRUE)
  else
    svydesign(ids = ids, strata = strata, fpc = fpc, weights = plus(cs$weight), data = d, nest = TRUE)
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

# Every estimate svy-tab prints for each case, computed by R survey: domains
# by subset() (svyby's way, checked against svyby below), na.rm = TRUE.
# strict: check that svyciprop's own logit and beta intervals agree with the
# references computed here (the api cases); small random domains can leave
# svyciprop's glm short of convergence, so the random cases skip the check.
compute_cases <- function(cases, datasets, strict = TRUE) {
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)

for (cs in cases) {
  if (nzchar(Sys.getenv("SVY_REF_TRACE"))) message(paste(unlist(cs), collapse = " | "))
  options(survey.lonely.psu = cs$lonely, survey.ultimate.cluster = cs$ultimate == "1")
  des <- make_design(cs, datasets)
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
      n <- sum(ok & weights(sub) != 0)  # svy-tab's n: rows with a value and a weight above 0
      wn <- sum(weights(sub)[ok])
      if (sum(ok) == 0 || wn == 0) {
        # No valid value (or only weights of 0) in the domain: svy-tab leaves
        # the estimate empty and says why; R would print 0 or NaN.
        for (meth in if (o$kind == "rate") c("logit", "wald", "beta", "wilson") else "wald")
          add(case = cs$id, domain = lev, variable = o$name, kind = o$kind, ci = meth,
              estimate = "", se = "", ci_low = "", ci_high = "", df = f17(dfv), deff = "", n = n,
              weighted_n = f17(wn))
        next
      }
      fml <- as.formula(paste0("~`", yname, "`"))
      FUN <- if (o$kind == "total") svytotal else svymean
      m <- tryCatch(FUN(fml, sub, na.rm = TRUE, deff = TRUE), error = function(e) NULL)
      if (is.null(m)) {
        # R 4.1.1's svyvar fails inside deff = TRUE on some multistage
        # subsets ("arguments must have same length" in multistage's by()):
        # the same deff from its definition (svymean.survey.design2).
        m <- FUN(fml, sub, na.rm = TRUE)
        w <- weights(sub)[ok]; yy <- y[ok]; nobs <- sum(w != 0); psum <- sum(w)
        s2 <- sum(w * (yy - sum(w * yy) / psum)^2) / psum * nobs / (nobs - 1)
        vsrs <- if (o$kind == "total") s2 * psum^2 * (psum - nobs) / (psum * nobs)
                else if (psum < nobs) NA else s2 * (psum - nobs) / (psum * nobs)
        de <- unname(vcov(m)[1, 1] / vsrs)
      } else de <- unname(deff(m))
      est <- unname(coef(m)); se <- unname(SE(m))
      # A proportion or mean whose rows all lie in one PSU has a first-stage
      # variance of 0 by construction (R prints 0, or rounding noise): svy-tab
      # flags it as having no variance estimate and leaves se, ci and deff
      # empty, unless later stages add variance.
      if (o$kind != "total" && length(unique(sub$cluster[ok, 1])) == 1 && se <= 1e-12 * max(abs(est), 1)) {
        for (meth in if (o$kind == "rate") c("logit", "wald", "beta", "wilson") else "wald")
          add(case = cs$id, domain = lev, variable = o$name, kind = o$kind, ci = meth,
              estimate = f17(est), se = "", ci_low = "", ci_high = "", df = f17(dfv), deff = "", n = n,
              weighted_n = f17(wn))
        next
      }
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
            # confint(fit, method = "Wald", ddf = dfv) gets there through a
            # normal quantile at level 1 - 2 pnorm(qt(alpha/2, df)), which
            # rounds to 1 when df is 1 or 2 (an interval of 0 to 1): the t
            # interval on the logit scale, written out.
            ci <- as.numeric(plogis(coef(fit)[1] + c(-1, 1) * qt(1 - alpha / 2, dfv) * SE(fit)[1]))
            if (strict && est > 0 && est < 1)
              stopifnot(isTRUE(all.equal(ci, unname(attr(cp, "ci")), tolerance = 1e-6)))
          } else if (meth == "beta") {
            # svyciprop(method="beta") takes its df from degf(design) whatever
            # df= says; svy-tab follows --df.  The same code with df substituted
            # is the reference, and equals svyciprop when df is the domain's.
            cp <- svyciprop(fml, sub, method = "beta", level = cs$level / 100, na.rm = TRUE)
            neff <- est * (1 - est) / se^2 * (qt(alpha / 2, nrow(sub) - 1) / qt(alpha / 2, dfv))^2
            ci <- c(qbeta(alpha / 2, neff * est, neff * (1 - est) + 1),
                    qbeta(1 - alpha / 2, neff * est + 1, neff * (1 - est)))
            if (strict && cs$df == "domain" && est > 0 && est < 1)
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
  if (length(byv) && cs$means != "" &&
      all(tapply(!is.na(d[[split1(cs$means)[1]]]), dom, any))) {
    mv <- split1(cs$means)[1]
    sb <- svyby(as.formula(paste0("~", mv)), as.formula(paste0("~", paste(byv, collapse = "+"))),
                des, svymean, na.rm = TRUE, deff = TRUE)
    for (i in seq_len(nrow(sb))) {
      lev <- paste(sapply(byv, function(b) as.character(sb[[b]][i])), collapse = "|")
      r <- Filter(function(x) x$case == cs$id && x$domain == lev && x$variable == mv, rows)[[1]]
      if (is.na(SE(sb)[i])) next
      stopifnot(isTRUE(all.equal(as.numeric(r$se), unname(SE(sb)[i]), tolerance = 1e-13)))
      stopifnot(isTRUE(all.equal(as.numeric(r$deff), unname(deff(sb)[i]), tolerance = 1e-13)))
    }
  }
}

rows
}

# tab-cases.csv-style and tab-api.csv-style files for the cases.
write_results <- function(cases, rows, casefile, reffile) {
  for (i in seq_along(cases)) {
    if (is.null(cases[[i]]$shares)) cases[[i]]$shares <- ""
    if (is.null(cases[[i]]$ultimate)) cases[[i]]$ultimate <- "0"
  }
  casedf <- do.call(rbind, lapply(cases, function(cs) as.data.frame(cs, stringsAsFactors = FALSE)))
  casedf[] <- lapply(casedf, function(x) gsub(",", " ", x))  # lists: space-separated
  write.csv(casedf, casefile, row.names = FALSE, na = "", quote = FALSE)
  write.csv(do.call(rbind, rows), reffile, row.names = FALSE, na = "", quote = FALSE)
}
