# Sums that stay exact (issue 11 section 4): values around 1e7 and 1e9 with a
# spread of 1, domains whose means differ by 1e7, weights with decimals.
# Totals without PSUs, domain means and design effects must hold 1e-9 of R.
# Run from the repository root:  Rscript tests/ref/tab-exact.R
# Writes tests/data/exact.csv, tests/ref/tab-exact-cases.csv, tests/ref/tab-exact.csv.
source("tests/ref/tab-common.R")
options(survey.adjust.domain.lonely = FALSE)
set.seed(7)
n <- 400
d <- data.frame(h = rep(c("s1", "s2", "s3", "s4"), each = n / 4), psu = rep(1:40, each = n / 40))
d$ssu <- seq_len(n)
d$w <- round(runif(n, 5, 60), 2)
d$fpc1 <- 40
d$fpc2 <- 25
d$dom <- sample(c("a", "b"), n, replace = TRUE)
# Values in multiples of 1/64 and 1/8: exact in binary, so that R's reader and
# svy-tab's see the same doubles (R's strtod is not always correctly rounded
# at 13 significant digits, which alone moves an SE at 1e9 by 1e-9).
d$y7 <- sprintf("%.6f", 1e7 + round(rnorm(n) * 64) / 64)
d$y9 <- sprintf("%.3f", 1e9 + round(rnorm(n) * 8) / 8)
d$yd <- sprintf("%.6f", ifelse(d$dom == "a", 1e7, 2e7) + round(rnorm(n) * 64) / 64)
d$b <- as.numeric(seq_len(n) %% 97 != 0)  # a proportion near 1 in every stratum
write.csv(d[sample(n), ], "tests/data/exact.csv", row.names = FALSE, quote = FALSE)
datasets <- list(exact = read.csv("tests/data/exact.csv", stringsAsFactors = FALSE))
# R's own arithmetic loses about 1e-9 on the mean of y9 (its x - mean and
# w/psum products round at 1e9): the reference for that mean comes from R on
# y9 - 1e9, which is exact in binary and has the same SE, interval width and
# deff (checked against exact rational arithmetic: SE 0.07609714342853348,
# deff 1.245527218454483 in domain b without PSUs).
datasets$exact$y9c <- datasets$exact$y9 - 1e9
k <- function(id, strata, psu, fpc, by, ultimate = "0")
  list(id = id, data = "exact", strata = strata, psu = psu, weight = "w", fpc = fpc, by = by, rates = "b",
       means = "y7,y9,yd", totals = "y7,y9,yd", shares = "", lonely = "fail", df = "domain", level = 95,
       ultimate = ultimate)
cases <- list(k("exact_rows", "h", "", "", "dom"), k("exact_rows_all", "h", "", "", ""),
              k("exact_psu", "h", "psu", "", "dom"), k("exact_two", "h", "psu,ssu", "fpc1,fpc2", "dom"))
rows <- compute_cases(cases, datasets)
cen <- compute_cases(lapply(cases, function(cs) { cs$rates <- ""; cs$means <- "y9c"; cs$totals <- ""; cs }), datasets)
for (i in seq_along(rows)) {
  r <- rows[[i]]
  if (r$variable != "y9" || r$kind != "mean") next
  c <- Filter(function(x) x$case == r$case && x$domain == r$domain, cen)[[1]]
  shift <- function(v) if (v == "") "" else f17(as.numeric(v) + 1e9)
  rows[[i]]$estimate <- shift(c$estimate); rows[[i]]$ci_low <- shift(c$ci_low); rows[[i]]$ci_high <- shift(c$ci_high)
  rows[[i]]$se <- c$se; rows[[i]]$deff <- c$deff
}
write_results(cases, rows, "tests/ref/tab-exact-cases.csv", "tests/ref/tab-exact.csv")
