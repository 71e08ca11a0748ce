# Reference weights for svy-weight from R's survey package on R's api data.
# Run from the repository root:  Rscript tests/ref/weight-api.R
# Writes the data (tests/data/weight-api*.csv), the population margins taken
# from apipop (tests/data/weight-margins/), and one weight per row for each
# case (tests/ref/weight-*.csv).  Raking is run to a far tighter epsilon than
# svy-weight's default tolerance so both sit on the same fixed point.
source("tests/ref/weight-common.R")
data(api)
dir.create(mar, showWarnings = FALSE, recursive = TRUE)

wcsv <- function(df, path) write.csv(df, path, row.names = FALSE, na = "")
wref <- function(id, w, path) {
  stopifnot(all(is.finite(w)))
  write.csv(data.frame(snum = id, weight = num17(w)), path, row.names = FALSE, quote = FALSE)
}
# Margins from the population, written as svy-weight reads them.
margin <- function(vars, path) {
  t <- as.data.frame(table(apipop[vars]), stringsAsFactors = FALSE)
  t <- t[t$Freq > 0, ]
  names(t)[ncol(t)] <- "total"
  wcsv(t, file.path(mar, path))
  names(t)[ncol(t)] <- "Freq"
  t
}

wcsv(apistrat, file.path(dat, "weight-apistrat.csv"))
wcsv(apiclus1, file.path(dat, "weight-apiclus1.csv"))

pop_stype <- margin("stype", "stype.csv")
pop_sch <- margin("sch.wide", "sch.wide.csv")
pop_stype_awards <- margin(c("stype", "awards"), "stype-awards.csv")
pop_stype_sch <- margin(c("stype", "sch.wide"), "stype-sch.wide.csv")

ctl <- list(maxit = 10000, epsilon = 1e-13)
# rake() only warns when it does not converge: refuse to write such a reference.
options(warn = 2)
dstrat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)

# 1. Post-stratification to a crossed margin.
ps <- postStratify(dstrat, ~stype + sch.wide, pop_stype_sch)
wref(apistrat$snum, weights(ps), file.path(ref, "weight-poststrat.csv"))

# 2. Raking to three margins, one of them crossed (and overlapping another).
margins3 <- list(~stype, ~sch.wide, ~stype + awards)
pops3 <- list(pop_stype, pop_sch, pop_stype_awards)
rk <- rake(dstrat, margins3, pops3, control = ctl)
stopifnot(gap(rk, margins3, pops3) < 1e-11)
wref(apistrat$snum, weights(rk), file.path(ref, "weight-rake.csv"))

# 3. Raking a cluster sample (equal starting weights) to two margins.
dclus <- svydesign(ids = ~dnum, weights = ~pw, data = apiclus1)
rk1 <- rake(dclus, list(~stype, ~sch.wide), list(pop_stype, pop_sch), control = ctl)
wref(apiclus1$snum, weights(rk1), file.path(ref, "weight-rake-clus1.csv"))

# 4. Trimming alone, absolute bounds: trimWeights(strict = TRUE).
tr <- trimWeights(dstrat, lower = 20, upper = 40, strict = TRUE)
wref(apistrat$snum, weights(tr), file.path(ref, "weight-trim.csv"))

# 5. Raking and trimming alternated, bounds relative to the mean weight,
# the way svy-weight does it: rake; while a weight is outside the bounds
# (beyond the tolerance), trim and rake again.  Each trimming step is R's
# trimWeights(); strict = TRUE itself is not used here because its recursion
# can ping-pong at the last bit of a weight sitting on a bound until R's C
# stack overflows (it does on this case), so the loop stops once every
# weight is within the bounds to the tolerance, as svy-weight's does.
within <- function(w, lo, hi, tol) all(w <= hi * (1 + tol) & w >= lo * (1 - tol))
trim_loop <- function(d, lo, hi, tol) {
  while (!within(weights(d), lo, hi, tol)) d <- trimWeights(d, upper = hi, lower = lo)
  d
}
rake_trim <- function(d, sm, pm, lo, hi, tol = 1e-10, maxit = 100) {
  d <- rake(d, sm, pm, control = ctl)
  m <- mean(weights(d)); lo <- lo * m; hi <- hi * m
  for (round in 0:maxit) {
    if (within(weights(d), lo, hi, tol)) return(d)
    d <- trim_loop(d, lo, hi, tol)
    d <- rake(d, sm, pm, control = ctl)
  }
  stop("raking and trimming did not settle")
}
rt <- rake_trim(dstrat, margins3, pops3, 0.4, 1.7)
stopifnot(gap(rt, margins3, pops3) < 1e-11)
wref(apistrat$snum, weights(rt), file.path(ref, "weight-rake-trim.csv"))

# 6. Nonresponse: a fixed pattern of nonrespondents, weighting classes by
# stype, then raking the respondents.  Nonrespondents end with weight 0.
nr <- apistrat
nr$resp <- as.integer(nr$snum %% 7 != 0 & !(nr$stype == "H" & nr$snum %% 3 == 0))
wcsv(nr, file.path(dat, "weight-apistrat-nr.csv"))
cls_all <- ave(nr$pw, nr$stype, FUN = sum)
cls_resp <- ave(nr$pw * nr$resp, nr$stype, FUN = sum)
nr$wnr <- ifelse(nr$resp == 1, nr$pw * (cls_all / cls_resp), 0)
wref(nr$snum, nr$wnr, file.path(ref, "weight-nonresponse.csv"))
dr <- svydesign(ids = ~1, weights = ~wnr, data = nr[nr$resp == 1, ])
rkr <- rake(dr, list(~sch.wide, ~stype + awards), list(pop_sch, pop_stype_awards), control = ctl)
wfull <- numeric(nrow(nr)); wfull[nr$resp == 1] <- weights(rkr)
wref(nr$snum, wfull, file.path(ref, "weight-nonresponse-rake.csv"))

# 7. Trimming with R's default, strict = FALSE: one clip-and-redistribute
# pass, which leaves the middle stratum's weights above the upper bound (32).
tro <- trimWeights(dstrat, lower = 20, upper = 32)
stopifnot(any(weights(tro) > 32))
wref(apistrat$snum, weights(tro), file.path(ref, "weight-trim-once.csv"))

# 8. Raking and one-pass trimming alternated until the raked weights are
# within the bounds: svy-weight --trim-once with margins.
rake_trim_once <- function(d, sm, pm, lo, hi, tol = 1e-10, maxit = 1000) {
  d <- rake(d, sm, pm, control = ctl)
  m <- mean(weights(d)); lo <- lo * m; hi <- hi * m
  for (round in 0:maxit) {
    if (within(weights(d), lo, hi, tol)) return(d)
    d <- trimWeights(d, upper = hi, lower = lo)
    d <- rake(d, sm, pm, control = ctl)
  }
  stop("raking and trimming did not settle")
}
rto <- rake_trim_once(dstrat, margins3, pops3, 0.4, 1.7)
stopifnot(gap(rto, margins3, pops3) < 1e-11)
wref(apistrat$snum, weights(rto), file.path(ref, "weight-rake-trim-once.csv"))

# 9. Starting weights that differ on nearly every row (as weights after a
# nonresponse adjustment do): more distinct values per cell than svy-weight
# keeps in memory, so its trimming reads the rows back from its spool.
ds <- apistrat
ds$wd <- ds$pw * exp((ds$api00 - 650) / 300)
wcsv(ds, file.path(dat, "weight-apistrat-distinct.csv"))
dd <- svydesign(ids = ~1, strata = ~stype, weights = ~wd, fpc = ~fpc, data = ds)
wref(ds$snum, weights(trim_loop(dd, 20, 45, 1e-10)), file.path(ref, "weight-distinct-trim.csv"))
wref(ds$snum, weights(trimWeights(dd, lower = 20, upper = 45)), file.path(ref, "weight-distinct-trim-once.csv"))
wref(ds$snum, weights(rake_trim(dd, margins3, pops3, 0.4, 2)), file.path(ref, "weight-distinct-rake-trim.csv"))
wref(ds$snum, weights(rake_trim_once(dd, margins3, pops3, 0.4, 2)),
     file.path(ref, "weight-distinct-rake-trim-once.csv"))

# 10. A three-margin rake of the cluster sample that needs 101 sweeps at a
# tolerance of 1e-10 against the targets (R's defaults, maxit = 10 and
# epsilon = 1, stop far earlier with a warning).
pop_awards <- margin("awards", "awards.csv")
pop_comp <- margin("comp.imp", "comp.imp.csv")
m10 <- list(~awards, ~comp.imp, ~stype + sch.wide)
p10 <- list(pop_awards, pop_comp, pop_stype_sch)
rk10 <- rake(dclus, m10, p10, control = ctl)
stopifnot(gap(rk10, m10, p10) < 1e-11)
wref(apiclus1$snum, weights(rk10), file.path(ref, "weight-rake-clus1-three.csv"))
options(warn = 1)
r_default <- withCallingHandlers(rake(dclus, m10, p10),
  warning = function(w) { cat("R's default control:", conditionMessage(w)); invokeRestart("muffleWarning") })
options(warn = 2)

cat("iterations of the three-margin rake and weight ranges written\n")
print(summary(weights(rk))); print(summary(weights(rt))); print(summary(weights(tr)))
