# R's side of bench/tab15.sh: what svy-tab --diff, --test, --subpop and
# --quantile compute, end to end from the CSV (fread + svydesign + the
# estimator), on the design -s province -p psu -w weight, by category x
# gender x province.  Writes domain,variable,estimate,se (17 digits) so the
# script can check R's numbers against svy-tab's.
# Usage: Rscript bench/tab15.R MODE FILE.csv OUT.csv
#   MODE: plain | diff | test | subpop | quantile | diffall (diff as one
#   svyby(covmat = TRUE) over all domains + svycontrast: small files only)
a <- commandArgs(TRUE); mode <- a[1]
suppressPackageStartupMessages({ library(data.table); library(survey) })
dt <- fread(a[2], na.strings = "")
des <- svydesign(ids = ~psu, strata = ~province, weights = ~weight, data = dt, nest = TRUE)
ys <- paste0("y", 1:6); fy <- ~y1 + y2 + y3 + y4 + y5 + y6
by <- ~category + gender + province
f17 <- function(v) trimws(formatC(v, digits = 17, format = "g"))
out <- function(dom, var, est, se)
  fwrite(data.table(domain = dom, variable = var, estimate = f17(est), se = f17(se)), a[3])
long <- function(b, vars) { # svyby result -> one row per domain and variable
  k <- paste(b$category, b$gender, b$province, sep = ".")
  out(rep(k, length(vars)), rep(vars, each = nrow(b)), unlist(b[vars]), unlist(b[paste0("se.", vars)]))
}
if (mode == "plain") {
  long(svyby(fy, by, des, svymean), ys)
} else if (mode == "subpop") { # NA in income: NA | TRUE is TRUE, NA | FALSE is out (R's subset)
  long(svyby(fy, by, subset(des, income >= 3000 | gender == 2), svymean), ys)
} else if (mode == "diff") { # each category minus category 1, within gender x province
  # svyby(covmat = TRUE) over all 186 domains at once needs 51 s and 4.8 GB at
  # 2,000 rows (bench/RESULTS.md); per gender x province it is the same numbers
  # (a difference needs only its two domains' covariance).
  dom <- var <- est <- se <- c()
  for (g in 1:2) for (p in 1:31) {
    s <- eval(bquote(subset(des, gender == .(g) & province == .(p))))
    b <- svyby(fy, ~category, s, svymean, covmat = TRUE)
    cn <- names(coef(b))
    for (y in ys) for (k in 2:3) {
      v <- setNames(rep(0, length(cn)), cn); v[sprintf("%d:%s", k, y)] <- 1; v[sprintf("1:%s", y)] <- -1
      r <- svycontrast(b, v)
      dom <- c(dom, sprintf("%d-1.%d.%d", k, g, p)); var <- c(var, y); est <- c(est, coef(r)); se <- c(se, SE(r))
    }
  }
  out(dom, var, est, se)
} else if (mode == "test") { # Rao-Scott F of each y and category, within gender x province
  dom <- var <- est <- p <- c()
  for (g in 1:2) for (pr in 1:31) {
    s <- eval(bquote(subset(des, gender == .(g) & province == .(pr))))
    for (y in ys) {
      t <- svychisq(as.formula(paste0("~", y, "+category")), s, statistic = "F")
      dom <- c(dom, sprintf("%d.%d", g, pr)); var <- c(var, y); est <- c(est, t$statistic); p <- c(p, t$p.value)
    }
  }
  out(dom, var, est, p) # "se" column holds the p-value here
} else if (mode == "quantile") { # median of income (rows with a value) by domain
  b <- svyby(~income, by, des, svyquantile, quantiles = 0.5, ci = TRUE, na.rm = TRUE)
  long(b, "income")
} else if (mode == "diffall") { # the same as diff, in one svyby over all domains
  b <- svyby(fy, by, des, svymean, covmat = TRUE)
  cn <- names(coef(b)); L <- matrix(0, 6 * 2 * 31 * 2, length(cn), dimnames = list(character(0), cn)); i <- 0
  rn <- character(nrow(L)) # one contrast a row (a list of 744 vectors takes R 40 times longer)
  for (y in ys) for (g in 1:2) for (p in 1:31) for (k in 2:3) {
    i <- i + 1; rn[i] <- sprintf("%d-1.%d.%d:%s", k, g, p, y)
    L[i, sprintf("%d.%d.%d:%s", k, g, p, y)] <- 1; L[i, sprintf("1.%d.%d:%s", g, p, y)] <- -1
  }
  rownames(L) <- rn
  s <- svycontrast(b, L)
  n <- do.call(rbind, strsplit(names(coef(s)), ":"))
  out(n[, 1], n[, 2], coef(s), SE(s))
}
