# Replicate-weight references for svy-tab --repweights (issue 16).
# Run from the source root: Rscript tests/ref/rep-api.R
# Writes tests/data/rep-*.csv (the data with R's replicate weights, printed to
# 8 significant digits: R then reads the same file back, so the numbers it
# computes are from exactly what svy-tab reads), tests/ref/rep-cases.csv
# (svy-tab's arguments per case) and tests/ref/rep-api.csv (R's numbers).
suppressMessages(library(survey))
options(digits = 17)
data(api); data(scd)
wcsv <- function(d, f) write.csv(d, f, row.names = FALSE, quote = FALSE, na = "")
fmt <- function(m) { m <- as.matrix(m); m[] <- as.numeric(formatC(m, digits = 8, format = "g")); m }
num <- function(x) formatC(x, digits = 17, format = "g")
cases <- list(); out <- list()

addrepcols <- function(df, des, prefix) {
  w <- fmt(weights(des, "analysis"))
  colnames(w) <- paste0(prefix, seq_len(ncol(w)))
  cbind(df, w)
}
# The columns svy-tab reads (sch_wide and comp_imp as 0/1, awards as text).
prep <- function(d) {
  data.frame(snum = d$snum, dnum = d$dnum, stype = as.character(d$stype), pw = d$pw, api00 = d$api00,
             enroll = d$enroll, sch_wide = as.integer(d$sch.wide == "Yes"), awards = as.character(d$awards))
}

# svyciprop(method = "logit") on a replicate design fits the logit with
# svyglm on every replicate, which converges to glm's tolerance only (about
# 1e-8 relative on the interval): the exact value of what it computes is the
# interval from the replicates' logits, logit(p_r), through svrVar.  Checked
# against svyciprop to 1e-6, and written instead.
logitci <- function(f, d, tq) {
  m <- svymean(f, d, return.replicates = TRUE)
  p <- as.numeric(m$mean)[1]; reps <- as.matrix(m$replicates)[, 1]
  v <- survey:::svrVar(qlogis(reps), d$scale, d$rscales, mse = d$mse, coef = qlogis(p))
  ci <- plogis(qlogis(p) + c(-1, 1) * tq * sqrt(as.numeric(v)))
  r <- attr(eval(bquote(svyciprop(.(f), d, method = "logit"))), "ci")
  stopifnot(all(abs(ci - r) < 1e-6 * abs(r)))
  ci
}

# One case: R's numbers by stype and overall for the statistics svy-tab prints.
run <- function(id, des, args, file) {
  cases[[length(cases) + 1]] <<- data.frame(id = id, data = file, args = args)
  doms <- list()
  lv <- sort(unique(as.character(des$variables$stype)))
  for (s in lv) doms[[s]] <- subset(des, stype == s)
  doms[["(all)"]] <- des
  for (dn in names(doms)) {
    d <- doms[[dn]]; df <- degf(d); tq <- qt(0.975, df)
    one <- function(var, kind, est, se, lo, hi, deff)
      out[[length(out) + 1]] <<- data.frame(case = id, domain = dn, variable = var, kind = kind,
        estimate = num(est), se = num(se), ci_low = num(lo), ci_high = num(hi), df = df, deff = num(deff))
    m <- svymean(~api00, d, deff = TRUE)
    one("api00", "mean", coef(m), SE(m), coef(m) - tq * SE(m), coef(m) + tq * SE(m), deff(m))
    t <- svytotal(~enroll, d, deff = TRUE)
    one("enroll", "total", coef(t), SE(t), coef(t) - tq * SE(t), coef(t) + tq * SE(t), deff(t))
    r <- svymean(~sch_wide, d, deff = TRUE)
    ci <- logitci(~sch_wide, d, tq)
    one("sch_wide", "rate", coef(r), SE(r), ci[1], ci[2], deff(r))
    d$variables$aw <- factor(d$variables$awards)
    sh <- svymean(~aw, d, deff = TRUE)
    for (k in seq_along(coef(sh))) {
      lvl <- levels(d$variables$aw)[k]
      ci <- eval(bquote(logitci(~as.numeric(awards == .(lvl)), d, tq)))
      one(paste0("awards=", lvl), "share", coef(sh)[k], SE(sh)[k], ci[1], ci[2], deff(sh)[k])
    }
  }
}

# JK1 on apiclus1 (cluster sample of districts, with fpc).
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
c1 <- addrepcols(prep(apiclus1), rclus1, "rw")
wcsv(c1, "tests/data/rep-clus1-jk1.csv")
mk <- function(d, ...) svrepdesign(data = d, repweights = "rw[0-9]+", weights = ~pw, combined.weights = TRUE, ...)
run("clus1_jk1", mk(c1, type = "JK1", scale = rclus1$scale),
    paste("--repweights 'rw*' --reptype jk1 --scale", num(rclus1$scale)), "rep-clus1-jk1")
run("clus1_jk1_mse", mk(c1, type = "JK1", scale = rclus1$scale, mse = TRUE),
    paste("--repweights 'rw*' --reptype jk1 --mse --scale", num(rclus1$scale)), "rep-clus1-jk1")
# JK1 without a scale: R's default (R-1)/R, with a warning.
run("clus1_jk1_default", suppressWarnings(mk(c1, type = "JK1")), "--repweights 'rw*' --reptype jk1", "rep-clus1-jk1")

# JKn on apistrat (200 replicates, one per school).
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
rstrat <- as.svrepdesign(dstrat, type = "JKn")
s1 <- addrepcols(prep(apistrat), rstrat, "rw")
wcsv(s1, "tests/data/rep-strat-jkn.csv")
writeLines(num(rstrat$rscales), "tests/data/rep-strat-jkn-rscales.txt")
wcsv(data.frame(column = paste0("rw", seq_along(rstrat$rscales)), type = "jkn", scale = 1,
                rscale = num(rstrat$rscales), rho = "", mse = 0, weight = "pw"),
     "tests/data/rep-strat-jkn-repinfo.csv")
run("strat_jkn", mk(s1, type = "JKn", rscales = rstrat$rscales),
    "--repweights 'rw*' --reptype jkn --rscales $DATA/rep-strat-jkn-rscales.txt", "rep-strat-jkn")
run("strat_jkn_info", mk(s1, type = "JKn", rscales = rstrat$rscales),
    "--repinfo $DATA/rep-strat-jkn-repinfo.csv", "rep-strat-jkn")

# Bootstrap on apistrat (50 replicates); the scale of as.svrepdesign given.
set.seed(20211)
bstrat <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
b1 <- addrepcols(prep(apistrat), bstrat, "bw")
wcsv(b1, "tests/data/rep-strat-boot.csv")
run("strat_boot", svrepdesign(data = b1, repweights = "bw[0-9]+", weights = ~pw, combined.weights = TRUE,
                              type = "bootstrap", scale = bstrat$scale),
    paste("--repweights 'bw*' --reptype bootstrap --scale", num(bstrat$scale)), "rep-strat-boot")
run("strat_boot_default", svrepdesign(data = b1, repweights = "bw[0-9]+", weights = ~pw,
                                      combined.weights = TRUE, type = "bootstrap"),
    "--repweights 'bw*' --reptype bootstrap", "rep-strat-boot")

# BRR and Fay on apistrat's first two schools of each district pair: a
# design of 2 PSUs per stratum (strata: pairs of schools, in file order).
ps <- prep(apistrat)
ps$pair <- (seq_len(nrow(ps)) + 1) %/% 2
dpair <- svydesign(id = ~snum, strata = ~pair, weights = ~pw, data = ps)
brr <- as.svrepdesign(dpair, type = "BRR")
fay <- as.svrepdesign(dpair, type = "Fay", fay.rho = 0.3)
p1 <- addrepcols(ps, brr, "br")
p1 <- addrepcols(p1, fay, "fr")
wcsv(p1, "tests/data/rep-strat-brr.csv")
run("strat_brr", svrepdesign(data = p1, repweights = "br[0-9]+", weights = ~pw, combined.weights = TRUE, type = "BRR"),
    "--repweights 'br*' --reptype brr", "rep-strat-brr")
run("strat_fay", svrepdesign(data = p1, repweights = "fr[0-9]+", weights = ~pw, combined.weights = TRUE,
                             type = "Fay", rho = 0.3),
    "--repweights 'fr*' --reptype fay --rho 0.3", "rep-strat-brr")

write.csv(do.call(rbind, cases), "tests/ref/rep-cases.csv", row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, out), "tests/ref/rep-api.csv", row.names = FALSE, quote = FALSE)
