# Replicate-weight references for svy-tab --diff, --ratio, --quantile/--median
# and --test with --repweights (issue 16, second part).
# Run from the source root: Rscript tests/ref/rep-issue16.R
# Reads the data files rep-api.R wrote (tests/data/rep-*.csv, replicate
# weights of as.svrepdesign) and writes tests/ref/rep16-cases.csv (svy-tab's
# replicate arguments per case) and tests/ref/rep16.csv (R's numbers):
#  diff:  svyby(~y, ~stype, FUN, covmat = TRUE) + svycontrast(H - E, M - E);
#         the interval and p at degf(design) (R attaches no df to a contrast:
#         svy-tab uses the design's, as for linearization);
#  ratio: svyratio(~api00, ~enroll) on subset(design, stype == s) and the
#         whole design, interval at degf of the subset (as svy-tab's means);
#  quantile: svyquantile(~api00, d, p) (interval.type "mean": Woodruff with
#         the replicate SE of the CDF, df = degf(d); SE = width / (2 t));
#  test:  svychisq(~sch_wide + stype, d) and of awards, "F" and "Chisq";
#         svychisq(~awards + stype) on subset(d, sch_wide == 1), "F".
suppressMessages(library(survey))
options(digits = 17)
num <- function(x) ifelse(is.na(x), "", trimws(formatC(as.numeric(x), digits = 17, format = "g")))
cases <- list(); out <- list()
row <- function(id, run, domain, variable, est, se, lo, hi, df, p)
  out[[length(out) + 1]] <<- data.frame(case = id, run = run, domain = domain, variable = variable,
    estimate = num(est), se = num(se), ci_low = num(lo), ci_high = num(hi), df = num(df), p = num(p))

rd <- function(f) read.csv(file.path("tests/data", paste0(f, ".csv")), stringsAsFactors = FALSE)
mk <- function(d, pat, ...) svrepdesign(data = d, repweights = pat, weights = ~pw, combined.weights = TRUE, ...)

diffs <- function(id, des) {
  nu <- degf(des); tq <- qt(0.975, nu)
  one <- function(f, FUN, var, ...) {
    b <- svyby(f, ~stype, des, FUN, covmat = TRUE, ...)
    for (lv in c("H", "M")) {
      cc <- setNames(rep(0, 3), c("E", "H", "M")); cc[lv] <- 1; cc["E"] <- -1
      k <- svycontrast(b, cc)
      est <- as.numeric(coef(k)); se <- as.numeric(SE(k))
      row(id, "diff", lv, var, est, se, est - tq * se, est + tq * se, nu, 2 * pt(-abs(est / se), nu))
    }
  }
  one(~api00, svymean, "api00")
  one(~enroll, svytotal, "enroll")
  one(~sch_wide, svymean, "sch_wide")
  one(~api00, svyratio, "api00/enroll", denominator = ~enroll)
}

ratios <- function(id, des) {
  doms <- list()
  for (s in c("E", "H", "M")) doms[[s]] <- subset(des, stype == s)
  doms[["(all)"]] <- des
  for (dn in names(doms)) {
    d <- doms[[dn]]; nu <- degf(d); tq <- qt(0.975, nu)
    r <- svyratio(~api00, ~enroll, d)
    est <- as.numeric(coef(r)); se <- as.numeric(SE(r))
    row(id, "ratio", dn, "api00/enroll", est, se, est - tq * se, est + tq * se, nu, NA)
  }
}

quantiles <- function(id, des) {
  doms <- list()
  for (s in c("E", "H", "M")) doms[[s]] <- subset(des, stype == s)
  doms[["(all)"]] <- des
  for (dn in names(doms)) {
    d <- doms[[dn]]
    q <- svyquantile(~api00, d, c(0.25, 0.5, 0.75))$api00
    for (k in 1:3)
      row(id, "quantile", dn, paste0("api00@", c(0.25, 0.5, 0.75)[k]), q[k, 1], q[k, 4], q[k, 2], q[k, 3],
          degf(d), NA)
  }
}

tests <- function(id, des) {
  for (v in c("sch_wide", "awards")) {
    f <- as.formula(paste("~", v, "+ stype"))
    tf <- svychisq(f, des, statistic = "F")
    tc <- svychisq(f, des, statistic = "Chisq")
    row(id, "test_f", "", v, tf$statistic, tf$parameter[["ndf"]], NA, NA, tf$parameter[["ddf"]], tf$p.value)
    row(id, "test_chisq", "", v, tc$statistic, tc$parameter[["df"]], NA, NA, NA, tc$p.value)
  }
}

# --test within a level of another by variable: svychisq on the subset
# (degf of the subset's replicate weights).  Within sch_wide == 0 every
# school has awards "No": no test (svy-tab says so in its note).
tests_within <- function(id, des) {
  d <- subset(des, sch_wide == 1)
  tf <- svychisq(~awards + stype, d, statistic = "F")
  row(id, "test_f_within", "1", "awards", tf$statistic, tf$parameter[["ndf"]], NA, NA, tf$parameter[["ddf"]],
      tf$p.value)
}

run <- function(id, data, args, des) {
  cases[[length(cases) + 1]] <<- data.frame(id = id, data = data, args = args)
  diffs(id, des); ratios(id, des); quantiles(id, des); tests(id, des); tests_within(id, des)
}

# The designs of rep-api.R, from the files it wrote (its scales in rep-cases.csv).
rc <- read.csv("tests/ref/rep-cases.csv", stringsAsFactors = FALSE)
arg <- function(id) rc$args[rc$id == id]
scale_of <- function(id) as.numeric(sub(".*--scale ", "", arg(id)))
c1 <- rd("rep-clus1-jk1")
run("clus1_jk1", "rep-clus1-jk1", arg("clus1_jk1"), mk(c1, "rw[0-9]+", type = "JK1", scale = scale_of("clus1_jk1")))
run("clus1_jk1_mse", "rep-clus1-jk1", arg("clus1_jk1_mse"),
    mk(c1, "rw[0-9]+", type = "JK1", scale = scale_of("clus1_jk1_mse"), mse = TRUE))
s1 <- rd("rep-strat-jkn")
rs <- as.numeric(readLines("tests/data/rep-strat-jkn-rscales.txt"))
run("strat_jkn", "rep-strat-jkn", arg("strat_jkn"), mk(s1, "rw[0-9]+", type = "JKn", rscales = rs))
# The same design read from svy-weight's replicate-design file (--repinfo).
run("strat_jkn_info", "rep-strat-jkn", arg("strat_jkn_info"), mk(s1, "rw[0-9]+", type = "JKn", rscales = rs))
b1 <- rd("rep-strat-boot")
run("strat_boot", "rep-strat-boot", arg("strat_boot"), mk(b1, "bw[0-9]+", type = "bootstrap", scale = scale_of("strat_boot")))
p1 <- rd("rep-strat-brr")
run("strat_brr", "rep-strat-brr", arg("strat_brr"), mk(p1, "br[0-9]+", type = "BRR"))
run("strat_fay", "rep-strat-brr", arg("strat_fay"), mk(p1, "fr[0-9]+", type = "Fay", rho = 0.3))

write.csv(do.call(rbind, cases), "tests/ref/rep16-cases.csv", row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, out), "tests/ref/rep16.csv", row.names = FALSE, quote = FALSE)
