# R's side of bench/weight-rep.sh: 100 bootstrap replicates (strata province,
# PSUs city), raked to province and gender x category for K sweeps (svy-weight's
# count, given as the third argument), every replicate column written.  With a
# fourth argument OUT: also writes id,weight_final there (to check against
# svy-weight) and prints how far the replicates' province totals are from the
# margin (relative, largest over provinces and replicates).
suppressMessages(library(survey))
a <- commandArgs(TRUE); f <- a[1]; mdir <- a[2]; k <- as.integer(a[3])
t0 <- proc.time()
d <- read.csv(f)
p1 <- read.csv(file.path(mdir, "province.csv")); names(p1)[ncol(p1)] <- "Freq"
p2 <- read.csv(file.path(mdir, "gender_category.csv")); names(p2)[ncol(p2)] <- "Freq"
des <- svydesign(ids = ~city, strata = ~province, weights = ~wt, data = d)
set.seed(1)
rd <- as.svrepdesign(des, type = "bootstrap", replicates = 100)
rk <- suppressWarnings(rake(rd, list(~province, ~gender + category), list(p1, p2), control = list(maxit = k, epsilon = 1e-300)))
w <- weights(rk, "analysis")
out <- cbind(d, weight_final = weights(rk, "sampling"), as.matrix(w))
write.csv(out, "/dev/null", row.names = FALSE)
if (length(a) > 3) {
  write.csv(data.frame(id = d$id, weight_final = sprintf("%.17g", weights(rk, "sampling"))), a[4], row.names = FALSE)
  tot <- rowsum(as.matrix(w), d$province)
  cat(sprintf("R replicates' province totals vs margin: max rel diff %.1e\n",
              max(abs(tot / p1$Freq[match(as.numeric(rownames(tot)), p1[[1]])] - 1))))
}
