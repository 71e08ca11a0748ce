# Shared by tests/ref/model-api.R and model-subpop.R (sourced after they
# set `datasets` and `cases`): the design of a case, svy-model's term names,
# and add_fit, which appends a fit's rows to `rows` (coefficients, the fit's
# n/df/iterations, regTermTest, svypredmeans and its differences).
split1 <- function(s) if (is.na(s) || s == "") character(0) else strsplit(s, " ")[[1]]
plus <- function(v) as.formula(paste0("~", paste(v, collapse = "+")))
f17 <- function(x) unname(ifelse(is.na(x) | is.nan(x), "", sprintf("%.17g", x)))

make_design <- function(cs) {
  d <- datasets[[cs$data]]
  ids <- if (cs$psu == "") ~1 else plus(split1(cs$psu))
  strata <- if (cs$strata == "") NULL else plus(split1(cs$strata))
  fpc <- if (cs$fpc == "") NULL else plus(split1(cs$fpc))
  for (v in c("stype", "awards", "yr_rnd")) d[[v]] <- factor(d[[v]])
  if (cs$ref != "") {
    kv <- strsplit(cs$ref, "=")[[1]]
    d[[kv[1]]] <- relevel(d[[kv[1]]], kv[2])
  }
  des <- if (cs$weight == "")
    svydesign(ids = ids, strata = strata, fpc = fpc, data = d, nest = TRUE)
  else
    svydesign(ids = ids, strata = strata, fpc = fpc, weights = plus(cs$weight), data = d, nest = TRUE)
  # model-subpop.R's cases: the subset design (rows outside keep weight 0)
  if (!is.null(cs$subpop_r)) eval(parse(text = sprintf("subset(des, %s)", cs$subpop_r))) else des
}

# svy-model's term names: each factor column's R name (var + level) as VAR=LEVEL
our_names <- function(fit) {
  mf <- model.frame(fit)
  xl <- fit$xlevels
  nm <- names(coef(fit))
  sapply(nm, function(n) {
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
add_fit <- function(cs, des, fam, fml, fit) {
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
