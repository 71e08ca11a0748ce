# Reference replicate weights for svy-weight --replicates (issue 16) from R's
# survey package: as.svrepdesign() then rake() / postStratify(), which weight
# every replicate again.  Run from the repository root, after weight-api.R
# (it reads tests/data/weight-api*.csv and tests/data/weight-margins/):
#     Rscript tests/ref/weight-rep.R
# Writes, per case, tests/ref/weight-rep-CASE.csv (snum, the full-sample
# weight, R's analysis replicate weights r1..rN) and
# tests/ref/weight-rep-CASE-info.csv (R's type, scale and rscales per column).
#
# Raking: R gives every replicate as many sweeps as the full sample took
# (rake()'s loop tests the full-sample table only) and never checks a
# replicate for convergence, so the replicates depend on the number of
# sweeps.  svy-weight stops when the full-sample margins are within 1e-10
# (relative) of their totals; K below is that number of sweeps, found in R
# from the full-sample weights alone, and rake() is then run for exactly K
# sweeps (maxit = K, an epsilon it never meets).
source("tests/ref/weight-common.R")
data(api)
write_case <- function(name, d, id) {
  w <- weights(d, "sampling")
  a <- as.matrix(weights(d, "analysis"))
  stopifnot(all(is.finite(a)))
  out <- data.frame(snum = id, weight = num17(w))
  for (j in seq_len(ncol(a))) out[[paste0("r", j)]] <- num17(a[, j])
  write.csv(out, file.path(ref, paste0("weight-rep-", name, ".csv")), row.names = FALSE, quote = FALSE)
  info <- data.frame(column = paste0("r", seq_len(ncol(a))), type = tolower(d$type),
                     scale = num17(d$scale), rscale = num17(d$rscales))
  write.csv(info, file.path(ref, paste0("weight-rep-", name, "-info.csv")), row.names = FALSE, quote = FALSE)
}

strat <- read.csv(file.path(dat, "weight-apistrat.csv"))
clus1 <- read.csv(file.path(dat, "weight-apiclus1.csv"))
pop_stype <- rd_margin("stype.csv"); pop_sch <- rd_margin("sch.wide.csv")
pop_stype_sch <- rd_margin("stype-sch.wide.csv")
names(pop_sch)[1] <- "sch.wide"; names(pop_stype_sch)[2] <- "sch.wide"

# 1. JKn on apistrat (fpc), raked to stype and sch.wide.
dstrat <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
rstrat <- as.svrepdesign(dstrat, type = "JKn")
write_case("jkn-rake", rake_k(rstrat, list(~stype, ~sch.wide), list(pop_stype, pop_sch)), strat$snum)
# 2. JKn on apistrat, post-stratified to stype x sch.wide.
write_case("jkn-ps", postStratify(rstrat, ~stype + sch.wide, pop_stype_sch), strat$snum)
# 3. JK1 on apiclus1 (clusters dnum, fpc), post-stratified to stype.
dclus <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
rclus <- as.svrepdesign(dclus, type = "JK1")
write_case("jk1-ps", postStratify(rclus, ~stype, pop_stype), clus1$snum)
# 4. JK1 on apiclus1 without an fpc, raked to stype and sch.wide.
dclus0 <- svydesign(ids = ~dnum, weights = ~pw, data = clus1)
rclus0 <- suppressWarnings(as.svrepdesign(dclus0, type = "JK1"))
write_case("jk1-rake", rake_k(rclus0, list(~stype, ~sch.wide), list(pop_stype, pop_sch)), clus1$snum)
# 5. The bootstrap is random: only its scale and rscales (R's bootweights
#    rule, 1/mean(1/n_h) PSUs per stratum) are R's; 100 replicates.
set.seed(1)
b <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 100)
write.csv(data.frame(type = "bootstrap", replicates = ncol(b$repweights$weights), scale = num17(b$scale),
                     rscale = num17(unique(b$rscales))),
          file.path(ref, "weight-rep-bootstrap-info.csv"), row.names = FALSE, quote = FALSE)
# 6. Nonresponse classes (awards) then raking, JKn on apistrat with a fixed
#    pattern of nonrespondents (weight-apistrat-nr.csv): every replicate gets
#    its own class factors (its class total over its respondents' total),
#    then raking as in 1.  R has no nonresponse step, so the adjustment is
#    done here on the analysis weights of each replicate, and the result
#    goes back into svrepdesign(combined.weights = TRUE) for rake().
nr <- read.csv(file.path(dat, "weight-apistrat-nr.csv"))
pop_stype_awards <- rd_margin("stype-awards.csv")
rnr <- as.svrepdesign(svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = nr), type = "JKn")
adj <- function(x) {
  all <- ave(x, nr$awards, FUN = sum); rs <- ave(x * nr$resp, nr$awards, FUN = sum)
  ifelse(nr$resp == 1, x * all / rs, 0)
}
wnr <- adj(weights(rnr, "sampling")); Anr <- apply(as.matrix(weights(rnr, "analysis")), 2, adj)
keep <- nr$resp == 1
rd2 <- svrepdesign(data = nr[keep, ], repweights = Anr[keep, ], weights = wnr[keep], type = "JKn",
                   scale = rnr$scale, rscales = rnr$rscales, combined.weights = TRUE)
rk <- rake_k(rd2, list(~sch.wide, ~stype + awards), list(pop_sch, pop_stype_awards))
w <- numeric(nrow(nr)); w[keep] <- weights(rk, "sampling")
a <- matrix(0, nrow(nr), ncol(Anr)); a[keep, ] <- as.matrix(weights(rk, "analysis"))
out <- data.frame(snum = nr$snum, weight = num17(w))
for (j in seq_len(ncol(a))) out[[paste0("r", j)]] <- num17(a[, j])
write.csv(out, file.path(ref, "weight-rep-jkn-nonresponse.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(column = paste0("r", seq_len(ncol(a))), type = "jkn", scale = num17(rnr$scale),
                     rscale = num17(rnr$rscales)),
          file.path(ref, "weight-rep-jkn-nonresponse-info.csv"), row.names = FALSE, quote = FALSE)
# 7. BRR (R's brrweights and hadamard) on apistrat in pairs of schools (the
#    strata of tests/data/rep-strat-brr.csv, from rep-api.R; 100 strata of 2
#    PSUs, 104 replicates from Paley's construction), post-stratified to stype.
pairs <- read.csv(file.path(dat, "rep-strat-brr.csv"))
rbrr <- as.svrepdesign(svydesign(ids = ~snum, strata = ~pair, weights = ~pw, data = pairs), type = "BRR")
write_case("brr-ps", postStratify(rbrr, ~stype, pop_stype), pairs$snum)
# 8. BRR with strata of more than two PSUs, split into pairs (brrweights'
#    large = "split"): apistrat by stype (100, 50 and 50 schools: 100 pairs),
#    raked to stype and sch.wide.
rsplit <- as.svrepdesign(svydesign(ids = ~1, strata = ~stype, weights = ~pw, data = strat), type = "BRR")
write_case("brr-split-rake", rake_k(rsplit, list(~stype, ~sch.wide), list(pop_stype, pop_sch)), strat$snum)
# 9. Fay's variant (rho = 0.3: multipliers 1.7 and 0.3) on the pairs of 7,
#    post-stratified to stype.
rfay <- as.svrepdesign(svydesign(ids = ~snum, strata = ~pair, weights = ~pw, data = pairs), type = "Fay",
                       fay.rho = 0.3)
write_case("fay-ps", postStratify(rfay, ~stype, pop_stype), pairs$snum)
