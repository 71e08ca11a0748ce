# Property test of svy-tab's multistage estimator against R survey: random
# designs drawn from a fixed seed, each a small data file with 2 or 3 stages,
# strata at the first and sometimes the second stage, ids that repeat across
# strata and units (nested codes), the fpc as population counts or as
# fractions (some strata and units sampled completely), weights given (some
# of them 0) or derived from the fpc, units of the last stage that are single
# rows or hold several rows (households), lone units at any stage under a
# lonely-PSU rule, the ultimate-cluster rule sometimes, domains with a
# missing outcome, numeric codes written two ways ("3" and "3.0").
# Run from the repository root:  Rscript tests/ref/tab-random.R
# Writes tests/data/random/rand-NN.csv, tests/ref/tab-random-cases.csv and
# tests/ref/tab-random.csv (the same layout as tab-cases.csv / tab-api.csv).
source("tests/ref/tab-common.R")
options(survey.adjust.domain.lonely = FALSE)
set.seed(20261125)
K <- 30
dir.create("tests/data/random", showWarnings = FALSE)

# One random design and its rows.
draw <- function(k) {
  nstage <- sample(2:3, 1)
  H <- sample(1:3, 1)
  strata2 <- runif(1) < 0.3                    # a strata column at stage 2
  multirow <- runif(1) < 0.3                    # last-stage units of several rows
  fraction <- runif(1) < 0.4
  lonely <- sample(c("adjust", "average", "remove", "certainty"), 1)
  rows <- list()
  # population sizes per stratum at each stage: at least the sample; some
  # strata sampled completely (N = n)
  popN <- function(n) if (runif(1) < 0.15) n else n + sample(0:(3 * n + 2), 1)
  f1 <- list(); f2 <- list(); f3 <- list()
  for (h in 1:H) {
    npsu <- sample(if (H == 1) 2:5 else 1:5, 1)
    N1 <- popN(npsu)
    for (i in 1:npsu) {
      s2s <- if (strata2) sample(1:2, 1) else 1
      for (s2 in 1:s2s) {
        nssu <- sample(1:4, 1)
        N2 <- popN(nssu)
        for (j in 1:nssu) {
          if (nstage == 2) {
            nrow <- if (multirow) sample(1:3, 1) else 1
            for (r in 1:nrow)
              rows[[length(rows) + 1]] <- data.frame(h = h, psu = i, s2 = s2, ssu = j, u3 = NA,
                                                     fp1 = N1, fp2 = N2, fp3 = NA, n1 = npsu, n2 = nssu, n3 = NA)
          } else {
            n3 <- sample(1:3, 1)
            N3 <- popN(n3)
            for (t in 1:n3) {
              nrow <- if (multirow) sample(1:3, 1) else 1
              for (r in 1:nrow)
                rows[[length(rows) + 1]] <- data.frame(h = h, psu = i, s2 = s2, ssu = j, u3 = t,
                                                       fp1 = N1, fp2 = N2, fp3 = N3, n1 = npsu, n2 = nssu, n3 = n3)
            }
          }
        }
      }
    }
  }
  d <- do.call(rbind, rows)
  n <- nrow(d)
  # codes: PSU ids repeat across strata, SSU ids across PSUs; some written
  # as "3.0" (the same code)
  d$stratum <- c("north", "south", "east")[d$h]
  d$psu_id <- d$psu * 10
  d$ssu_id <- ifelse(runif(n) < 0.2, sprintf("%d.0", d$ssu), as.character(d$ssu))
  d$s2_id <- c("x", "y")[d$s2]
  d$u3_id <- d$u3
  if (fraction) {
    d$fpc1 <- d$n1 / d$fp1
    d$fpc2 <- d$n2 / d$fp2
    d$fpc3 <- d$n3 / d$fp3
  } else {
    d$fpc1 <- d$fp1
    d$fpc2 <- d$fp2
    d$fpc3 <- d$fp3
  }
  # every value 1 as fractions would make R fail: keep one stratum sampled in part
  weighted <- runif(1) < 0.6
  d$w <- if (weighted) round(runif(n, 1, 20), 2) else NA
  if (weighted && runif(1) < 0.5) d$w[sample(n, max(1, n %/% 10))] <- 0
  d$dom <- sample(c("a", "b", "c"), n, replace = TRUE, prob = c(0.5, 0.4, 0.1))
  d$y <- round(rnorm(n, 50, 10), 1)
  d$y[runif(n) < 0.1] <- NA
  d$y[d$dom == "c"] <- NA                       # no valid y in domain c
  d$b <- as.numeric(runif(n) < 0.3 + 0.2 * (d$h == 2))
  d$b[runif(n) < 0.05] <- NA
  d$cat <- sample(c(1, 2, 3), n, replace = TRUE)
  ids <- if (nstage == 2) "psu_id,ssu_id" else "psu_id,ssu_id,u3_id"
  fpcs <- if (nstage == 2) "fpc1,fpc2" else "fpc1,fpc2,fpc3"
  strata <- if (H > 1 || strata2) "stratum" else ""
  if (strata2) strata <- "stratum,s2_id"
  file <- sprintf("rand-%02d", k)
  keep <- c("stratum", "psu_id", "s2_id", "ssu_id", if (nstage == 3) "u3_id", "fpc1", "fpc2",
            if (nstage == 3) "fpc3", if (weighted) "w", "dom", "y", "b", "cat")
  d <- d[sample(n), keep]                      # rows in any order
  list(data = d, case = list(id = file, data = paste0("random/", file), strata = strata, psu = ids,
       weight = if (weighted) "w" else "", fpc = fpcs, by = "dom", rates = "b", means = "y", totals = "y",
       shares = "cat", lonely = lonely, df = "domain", level = 95,
       ultimate = if (runif(1) < 0.2) "1" else "0"))
}

cases <- list()
datasets <- list()
k <- 0
while (length(cases) < K) {
  k <- k + 1
  x <- draw(k)
  # R refuses a design whose fpc is 1 everywhere (fractions of complete
  # samples); draw again then.
  f <- unlist(x$data[, grepl("^fpc", names(x$data))])
  if (all(f == 1, na.rm = TRUE)) next
  path <- sprintf("tests/data/%s.csv", x$case$data)
  write.csv(x$data, path, row.names = FALSE, na = "", quote = FALSE)
  datasets[[x$case$data]] <- read.csv(path, stringsAsFactors = FALSE, na.strings = "",
                                      colClasses = c(ssu_id = "character"))
  # R reads "3.0" and "3" as two codes; svy-tab, as numbers, as one: give R
  # the numbers.
  datasets[[x$case$data]]$ssu_id <- as.numeric(datasets[[x$case$data]]$ssu_id)
  cases[[length(cases) + 1]] <- x$case
}
rows <- compute_cases(cases, datasets, strict = FALSE)
write_results(cases, rows, "tests/ref/tab-random-cases.csv", "tests/ref/tab-random.csv")
