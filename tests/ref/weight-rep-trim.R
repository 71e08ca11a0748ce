# Reference replicate weights for svy-weight --replicates with --trim (issue
# 16): every replicate trimmed as the full sample is.  Run from the
# repository root, after weight-api.R (it reads tests/data/weight-api*.csv
# and tests/data/weight-margins/):
#     Rscript tests/ref/weight-rep-trim.R
# Writes, per case, tests/ref/weight-rep-trim-CASE.csv (snum, the trimmed
# full-sample weight, the trimmed replicate columns r1..rN) and
# tests/ref/weight-rep-trim-CASE-info.csv (type, scale, rscales), and
# tests/ref/weight-rep-trim-se.csv: estimates and SEs of svrepdesign() on the
# trimmed columns.
#
# R's own trimWeights() on a replicate design cannot be the reference: in
# survey 4.1.1 trimWeights.svyrep.design leaves the full-sample weight
# untrimmed (it sets prob <- 1/pw with the old pw) and builds the replicate
# columns from a recycled vector (on apistrat JKn every weight becomes about
# 24.3).  So the reference is built by hand, one replicate column at a time:
#   1. the replicate columns before trimming are R's (as.svrepdesign() then
#      rake() for exactly the sweeps svy-weight's full sample took, as in
#      weight-rep.R), or for the bootstrap, whose draws R cannot repeat,
#      svy-weight's own untrimmed columns (tests/data/weight-rep-boot-clus1.csv,
#      written by the command below);
#   2. each column becomes a one-column design of the rows it gives a positive
#      weight (a JK-deleted PSU, a PSU the bootstrap did not draw are not rows
#      of that replicate: R's trimWeights would otherwise lift their 0 to the
#      lower bound, or hand them a share of what was clipped, and count them
#      in the mean);
#   3. bounds written as multiples of the mean (0.4x) are taken from that
#      column's own mean weight; numbers stay as given;
#   4. the full sample's trimming procedure (weight-api.R cases 5 and 8):
#      while a weight is outside the bounds (beyond svy-weight's tolerance
#      1e-10), trimWeights(strict = TRUE), or one trimWeights() pass for
#      --trim-once, then raking to the margins again (rake()'s iteration,
#      stopped by svy-weight's rule: see fast_rake below).
# R's strict = TRUE recursion stops when no weight is outside at all; where
# it ping-pongs on the last bit of a weight sitting on a bound (C stack
# overflow, as in weight-api.R case 5) the script falls back to repeating
# single passes until every weight is within the tolerance, as svy-weight
# does, and says how often it did.
source("tests/ref/weight-common.R")
ctl <- list(maxit = 10000, epsilon = 1e-13)
within <- function(w, lo, hi, tol) all(w <= hi * (1 + tol) & w >= lo * (1 - tol))
fallbacks <- 0; steps <- 0
trim_step <- function(d, lo, hi, once, tol) {
  if (once) return(trimWeights(d, upper = hi, lower = lo))
  steps <<- steps + 1
  r <- tryCatch(trimWeights(d, upper = hi, lower = lo, strict = TRUE), error = function(e) NULL)
  if (!is.null(r)) return(r)
  fallbacks <<- fallbacks + 1
  while (!within(weights(d), lo, hi, tol)) d <- trimWeights(d, upper = hi, lower = lo)
  d
}
# rake() on a one-column design of 200 rows takes about 50 ms (its
# postStratify() builds model frames and merges), and a replicate can need
# over 100 rounds of trimming and raking: 200 columns would take most of an
# hour.  So the raking between trimming steps is rake()'s own iteration
# (post-stratify to each margin in turn) written with ave().  It stops as
# svy-weight's raking does: after the first sweep that leaves every margin
# cell within 1e-10 (relative) of its total.  That matters: trimming and
# raking alternate until the weights are within the bounds, and a rake that
# stops elsewhere can make a replicate take one round more or fewer, which
# moves weights near a bound by up to 1e-6 (seen on weight-apistrat-distinct.csv
# with rake()'s own stopping rule; there svy-weight still differs from this
# script on 93 of 200 columns by up to 2.4e-6 with svy-weight's rule, not
# resolved, so that case is not here: see the s6trim note).  With a tight stop instead (weights no longer change),
# fast_rake() is rake(): checked on the first two columns of case 1 (to
# 1e-10; they differ by up to 1.4e-12).  Trimming is always R's trimWeights().
fast_rake <- function(w, df, sm, pm, gap_tol = 1e-10) {
  keys <- lapply(seq_along(sm), function(i) {
    v <- all.vars(sm[[i]])
    k <- do.call(paste, c(df[v], sep = "\r")); pk <- do.call(paste, c(pm[[i]][v], sep = "\r"))
    list(k = k, tot = pm[[i]]$Freq[match(k, pk)])
  })
  for (it in 1:10000) {
    old <- w
    for (m in keys) w <- w * m$tot / ave(w, m$k, FUN = sum)
    if (is.na(gap_tol)) {
      if (max(abs(w - old) / old) < 1e-15) return(w)
    } else if (max(sapply(keys, function(m) max(abs(ave(w, m$k, FUN = sum) - m$tot) / m$tot))) <= gap_tol) {
      return(w)
    }
  }
  stop("fast_rake did not converge")
}
# One weight column through svy-weight's trimming (steps 2-4 above).
trim_column <- function(df, w, sm, pm, lo, hi, rel, once = FALSE, tol = 1e-10, maxit = 1000, rk = "svy") {
  keep <- w > 0
  sub <- df[keep, ]; sub$w_ <- w[keep]
  d <- svydesign(ids = ~1, weights = ~w_, data = sub)
  m <- mean(weights(d))
  if (rel[1]) lo <- lo * m
  if (rel[2]) hi <- hi * m
  for (round in 0:maxit) {
    if (within(weights(d), lo, hi, tol)) break
    if (round == maxit) stop("trimming and raking did not settle")
    d <- trim_step(d, lo, hi, once, tol)
    if (!length(sm)) break
    if (rk == "rake") d <- rake(d, sm, pm, control = ctl)
    else d$prob <- 1 / fast_rake(weights(d), sub, sm, pm, if (rk == "tight") NA else 1e-10)
  }
  out <- numeric(length(w)); out[keep] <- weights(d)
  out
}
write_case <- function(name, id, w, A, type, scale, rscales) {
  stopifnot(all(is.finite(w)), all(is.finite(A)))
  out <- data.frame(snum = id, weight = num17(w))
  for (j in seq_len(ncol(A))) out[[paste0("r", j)]] <- num17(A[, j])
  write.csv(out, file.path(ref, paste0("weight-rep-trim-", name, ".csv")), row.names = FALSE, quote = FALSE)
  info <- data.frame(column = paste0("r", seq_len(ncol(A))), type = type, scale = num17(scale),
                     rscale = num17(rscales))
  write.csv(info, file.path(ref, paste0("weight-rep-trim-", name, "-info.csv")), row.names = FALSE, quote = FALSE)
}
# Every column of a (design, replicate matrix) pair trimmed.
trim_all <- function(df, w, A, sm, pm, lo, hi, rel, once = FALSE) {
  list(w = trim_column(df, w, sm, pm, lo, hi, rel, once),
       A = sapply(seq_len(ncol(A)), function(j) trim_column(df, A[, j], sm, pm, lo, hi, rel, once)))
}
# SEs R gives from the trimmed columns: svrepdesign(combined.weights = TRUE).
se_rows <- list()
ses <- function(name, df, tr, type, scale, rscales) {
  rd <- svrepdesign(data = df, repweights = tr$A, weights = tr$w, type = type, scale = scale,
                    rscales = rscales, combined.weights = TRUE)
  add <- function(dom, var, stat, est) {
    se_rows[[length(se_rows) + 1]] <<- data.frame(case = name, stype = dom, variable = var, statistic = stat,
                                                  estimate = num17(coef(est)), se = num17(SE(est)))
  }
  add("", "api00", "mean", svymean(~api00, rd))
  add("", "enroll", "total", svytotal(~enroll, rd))
  by <- svyby(~api00, ~stype, rd, svymean)
  for (i in seq_len(nrow(by)))
    se_rows[[length(se_rows) + 1]] <<- data.frame(case = name, stype = as.character(by$stype[i]),
                                                  variable = "api00", statistic = "mean",
                                                  estimate = num17(by$api00[i]), se = num17(by$se[i]))
}

strat <- read.csv(file.path(dat, "weight-apistrat.csv"))
clus1 <- read.csv(file.path(dat, "weight-apiclus1.csv"))
pop_stype <- rd_margin("stype.csv"); pop_sch <- rd_margin("sch.wide.csv")
pop_stype_awards <- rd_margin("stype-awards.csv")
names(pop_sch)[1] <- "sch.wide"
m3 <- list(~stype, ~sch.wide, ~stype + awards); p3 <- list(pop_stype, pop_sch, pop_stype_awards)

dstrat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
rstrat <- as.svrepdesign(dstrat, type = "JKn")
rk <- rake_k(rstrat, m3, p3)
A <- as.matrix(weights(rk, "analysis"))
# The full sample: raked as svy-weight rakes (above), then trimmed (weight-api.R case 5).
wfull <- fast_rake(strat$pw, strat, m3, p3)

# 1. JKn on apistrat, raked to stype, sch.wide, stype x awards, trimmed to
#    0.4x,1.7x (strict), raking again after each trimming step.
tr1 <- trim_all(strat, wfull, A, m3, p3, 0.4, 1.7, c(TRUE, TRUE))
for (j in 1:2) {
  slow <- trim_column(strat, A[, j], m3, p3, 0.4, 1.7, c(TRUE, TRUE), rk = "rake")
  tight <- trim_column(strat, A[, j], m3, p3, 0.4, 1.7, c(TRUE, TRUE), rk = "tight")
  stopifnot(max(abs(slow - tight) / pmax(slow, 1e-300)) < 1e-10)
}
write_case("jkn-rake", strat$snum, tr1$w, tr1$A, "jkn", rstrat$scale, rstrat$rscales)
ses("jkn-rake", strat, tr1, "JKn", rstrat$scale, rstrat$rscales)
# 2. The same with --trim-once: one trimWeights() pass per round.
tr2 <- trim_all(strat, wfull, A, m3, p3, 0.4, 1.7, c(TRUE, TRUE), once = TRUE)
write_case("jkn-rake-once", strat$snum, tr2$w, tr2$A, "jkn", rstrat$scale, rstrat$rscales)
# 3. JKn on apistrat without margins, absolute bounds 20 and 40 (weight-api.R
#    case 4): a deleted school's 0 stays 0 although the lower bound is 20.
A0 <- as.matrix(weights(rstrat, "analysis"))
tr3 <- trim_all(strat, strat$pw, A0, list(), list(), 20, 40, c(FALSE, FALSE))
write_case("jkn-abs", strat$snum, tr3$w, tr3$A, "jkn", rstrat$scale, rstrat$rscales)
ses("jkn-abs", strat, tr3, "JKn", rstrat$scale, rstrat$rscales)
# 4. Bootstrap on apiclus1 (PSUs dnum, 50 replicates, seed 7), no margins,
#    trimmed to 0.5x,1.5x of each replicate's mean: the replicate's mean is
#    over the schools of the districts it drew, so leaving out the rows of
#    weight 0 matters.  The untrimmed columns are svy-weight's:
#      svy-weight -q --replicates bootstrap:50 --seed 7 --psu dnum -w pw \
#        --repinfo ri.csv tests/data/weight-apiclus1.csv | svy-import -c snum,weight_final,weight_final_r1,... -
boot <- read.csv(file.path(dat, "weight-rep-boot-clus1.csv"))
stopifnot(all(boot$snum == clus1$snum))
B <- as.matrix(boot[, grep("_r[0-9]+$", names(boot))])
binfo <- read.csv(file.path(dat, "weight-rep-boot-clus1-info.csv"))
tr4 <- trim_all(clus1, boot$weight_final, B, list(), list(), 0.5, 1.5, c(TRUE, TRUE))
write_case("boot-clus1", clus1$snum, tr4$w, tr4$A, "bootstrap", binfo$scale[1], binfo$rscale)
ses("boot-clus1", clus1, tr4, "bootstrap", binfo$scale[1], binfo$rscale)

write.csv(do.call(rbind, se_rows), file.path(ref, "weight-rep-trim-se.csv"), row.names = FALSE, quote = FALSE)
cat("trimming steps where strict = TRUE fell back to single passes within the tolerance:", fallbacks, "of", steps, "\n")
cat("columns changed by trimming:", sum(colSums(abs(tr1$A - A) > 0) > 0), "of", ncol(A), "(jkn-rake);",
    sum(colSums(abs(tr3$A - A0) > 0) > 0), "of", ncol(A0), "(jkn-abs);",
    sum(colSums(abs(tr4$A - B) > 0) > 0), "of", ncol(B), "(boot-clus1)\n")
# R's own trimWeights on the replicate design, for the record (see above).
bad <- trimWeights(rstrat, lower = 20, upper = 40)
cat("R's trimWeights on the JKn design: analysis weights range", range(weights(bad, "analysis")),
    "; full-sample weights still range", range(weights(bad, "sampling")), "\n")
