# Reference weights for svy-weight on the NSFE-2021 sample, from R's survey.
# Run from the repository root after building:  Rscript tests/ref/weight-nsfe.R [BUILD_DIR]
# The sample is cleaned by svy-clean (codebooks/nsfe-2021); rows with a
# missing province, gender or category are left out, since svy-weight refuses
# missing values in margin variables (the CLI tests drop them the same way).
# Raked to samples/nsfe-2021-margins/ (province; category; province x gender),
# then raked and trimmed to 0.5x..2x the mean weight, alternating as svy-weight does.
suppressMessages(library(survey))
options(warn = 2, digits = 17)
a <- commandArgs(trailingOnly = TRUE)
build <- if (length(a)) a[1] else "build"
clean <- tempfile(fileext = ".csv")
stopifnot(system2(file.path(build, "tools", "svy-clean"),
                  c("-q", "-c", "codebooks/nsfe-2021", "samples/nsfe-2021-raw.csv"),
                  stdout = clean, stderr = FALSE) == 0)
d <- read.csv(clean, colClasses = "character")
d <- d[d$province != "" & d$gender != "" & d$category != "", ]
d$weight <- as.numeric(d$weight)
mar <- "samples/nsfe-2021-margins"
pop <- function(f) { p <- read.csv(file.path(mar, f), colClasses = "character"); names(p)[ncol(p)] <- "Freq"; p$Freq <- as.numeric(p$Freq); p }
sm <- list(~province, ~category, ~province + gender)
pm <- list(pop("province.csv"), pop("category.csv"), pop("province_gender.csv"))
ctl <- list(maxit = 10000, epsilon = 1e-13)
des <- svydesign(ids = ~1, weights = ~weight, data = d)
wref <- function(w, path) write.csv(data.frame(resp_id = d$resp_id, weight = sprintf("%.17g", w)), path,
                                   row.names = FALSE, quote = FALSE)

rk <- rake(des, sm, pm, control = ctl)
wref(weights(rk), "tests/ref/weight-nsfe-rake.csv")

within <- function(w, lo, hi, tol) all(w <= hi * (1 + tol) & w >= lo * (1 - tol))
m <- mean(weights(rk)); lo <- 0.5 * m; hi <- 2 * m
rt <- rk
for (round in 0:100) {
  if (within(weights(rt), lo, hi, 1e-10)) break
  while (!within(weights(rt), lo, hi, 1e-10)) rt <- trimWeights(rt, upper = hi, lower = lo)
  rt <- rake(rt, sm, pm, control = ctl)
}
stopifnot(within(weights(rt), lo, hi, 1e-10))
wref(weights(rt), "tests/ref/weight-nsfe-rake-trim.csv")
cat(nrow(d), "rows\n")
