# Shared by the svy-weight reference scripts (weight-api.R, weight-rep.R,
# weight-rep-trim.R), each run from the repository root: paths, 17-digit
# numbers, the margin files, the largest margin gap and rake() for exactly
# the sweeps svy-weight makes.
suppressMessages(library(survey))
options(digits = 17)
dat <- "tests/data"; mar <- file.path(dat, "weight-margins"); ref <- "tests/ref"
num17 <- function(x) sprintf("%.17g", x)
rd_margin <- function(f) {
  t <- read.csv(file.path(mar, f), stringsAsFactors = FALSE)
  names(t)[ncol(t)] <- "Freq"
  t
}
# Largest relative gap between weighted margins and their totals.
gap <- function(d, margins, pops) {
  max(sapply(seq_along(margins), function(i) {
    p <- pops[[i]]; vars <- all.vars(margins[[i]])
    t <- as.data.frame(svytable(margins[[i]], d), stringsAsFactors = FALSE)
    m <- merge(t, p, by = vars)
    max(abs(m$Freq.x - m$Freq.y) / m$Freq.y)
  }))
}
# rake() for exactly the sweeps svy-weight makes: it stops when every
# full-sample margin is within 1e-10 (relative) of its total.
rake_k <- function(rd, margins, pops) {
  for (k in 1:200) {
    rk <- suppressWarnings(rake(rd, margins, pops, control = list(maxit = k, epsilon = 1e-300)))
    if (gap(rk, margins, pops) <= 1e-10) return(rk)
  }
  stop("no convergence")
}
