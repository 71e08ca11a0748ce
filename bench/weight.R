# R peer for bench/weight.sh: read with data.table::fread, rake with survey to
# the same margins, write id and weight.
# Usage: Rscript bench/weight.R DATA.csv MARGIN_DIR OUT.csv [real]
#   default: region, gender x age group, urban (gen-weight ROWS)
#   real:    province, gender x category (gen-weight real ROWS)
suppressMessages({ library(survey); library(data.table) })
a <- commandArgs(trailingOnly = TRUE)
real <- length(a) > 3 && a[4] == "real"
cols <- if (real) c("province", "gender", "category") else c("region", "gender", "agegrp", "urban")
d <- fread(a[1], colClasses = list(character = cols))
pop <- function(f) { p <- as.data.frame(fread(file.path(a[2], f), colClasses = "character")); names(p)[ncol(p)] <- "Freq"; p$Freq <- as.numeric(p$Freq); p }
des <- svydesign(ids = ~1, weights = ~wt, data = d)
if (real) {
  r <- rake(des, list(~province, ~gender + category), list(pop("province.csv"), pop("gender_category.csv")),
            control = list(maxit = 100, epsilon = 1e-10))
} else {
  r <- rake(des, list(~region, ~gender + agegrp, ~urban),
            list(pop("region.csv"), pop("gender_age.csv"), pop("urban.csv")),
            control = list(maxit = 100, epsilon = 1e-10))
}
fwrite(data.table(id = d$id, weight = weights(r)), a[3])
