# Reference values for svy-tab: R survey on R's api and mu284 data and on the
# NSFE-2021 sample (tests/data/nsfe-2021.csv: samples/nsfe-2021-raw.csv cleaned
# by svy-clean -c codebooks/nsfe-2021, the design and outcome columns).
# Run from the repository root:  Rscript tests/ref/tab-api.R
# Writes tests/data/api{strat,clus1,clus2}.csv and tests/data/mu284.csv (the
# inputs) and tests/ref/tab-cases.csv (one design per case) and
# tests/ref/tab-api.csv (every estimate, se, ci, df, deff, n, weighted_n),
# numbers with 17 digits.
#
# Designs: one stage (strata, PSUs, fpc as counts and fractions, lonely PSUs
# under every rule); two stages as R's own examples set them up
# (apiclus2: id = ~dnum + snum, fpc = ~fpc1 + fpc2; mu284: id = ~id1 + id2,
# fpc = ~n1 + n2), with fpc as fractions, the ultimate cluster, stage-2 strata
# and lone units at stage 2 under every rule; weights derived from the fpc
# (no weights given); zero weights.  Lists (several stages) are written with
# spaces in tab-cases.csv.
suppressPackageStartupMessages(library(survey))
data(api)
data(mu284)
options(survey.adjust.domain.lonely = FALSE)

yn01 <- function(f) as.numeric(as.character(f) == "Yes")
common <- function(d) data.frame(
  snum = d$snum, dnum = d$dnum, stype = as.character(d$stype), pw = d$pw,
  api00 = d$api00, enroll = d$enroll, acs_k3 = d$acs.k3,
  sch_wide = yn01(d$sch.wide), comp_imp = yn01(d$comp.imp),
  awards = as.character(d$awards), yr_rnd = as.character(d$yr.rnd),
  hi_acs = as.numeric(d$acs.k3 > 19), stringsAsFactors = FALSE)

strat <- common(apistrat)
strat$fpc <- apistrat$fpc
nh <- table(apistrat$stype)
strat$fpcfrac <- as.numeric(nh[as.character(apistrat$stype)]) / apistrat$fpc
clus1 <- common(apiclus1)
clus1$fpc <- apiclus1$fpc
# Artificial strata over the 15 districts: stratum "c" has a single PSU (437),
# and within domains several strata hold only one PSU with members.
clus1$lstr <- ifelse(clus1$dnum < 190, "a", ifelse(clus1$dnum < 420, "b",
              ifelse(clus1$dnum == 437, "c", "d")))
clus2 <- common(apiclus2)
clus2$fpc1 <- apiclus2$fpc1
clus2$fpc2 <- apiclus2$fpc2
# the same fpc as sampling fractions, stage by stage
m2 <- table(apiclus2$dnum)
clus2$f1 <- 40 / apiclus2$fpc1
clus2$f2 <- as.numeric(m2[as.character(apiclus2$dnum)]) / apiclus2$fpc2
# Lone units at stage 2: districts with one sampled school get a population
# of 4 schools (synthetic), so that stage 2 is lonely there.
clus2$fpc2l <- ifelse(as.numeric(m2[as.character(apiclus2$dnum)]) == 1, 4, apiclus2$fpc2)
# Stage-2 strata: school type within the district, with a synthetic
# population of twice the sampled schools of the type plus one.
clus2$all <- "ca"
mt <- table(paste(apiclus2$dnum, apiclus2$stype))
clus2$fpc2s <- 2 * as.numeric(mt[paste(apiclus2$dnum, apiclus2$stype)]) + 1
# Zero weights kept in the design: every 37th school of apistrat, every 11th
# of apiclus1.
strat$pw0 <- ifelse(seq_len(nrow(strat)) %% 37 == 5, 0, strat$pw)
clus1$pw0 <- ifelse(seq_len(nrow(clus1)) %% 11 == 3, 0, clus1$pw)
mu <- data.frame(id1 = mu284$id1, id2 = mu284$id2, y1 = mu284$y1, n1 = mu284$n1, n2 = mu284$n2,
                 big = as.numeric(mu284$y1 > 45), half = ifelse(mu284$id2 <= 2, "a", "b"))

wr <- function(d, f) write.csv(d, f, row.names = FALSE, na = "", quote = FALSE)
wr(strat, "tests/data/apistrat.csv")
wr(clus1, "tests/data/apiclus1.csv")
wr(clus2, "tests/data/apiclus2.csv")
wr(mu, "tests/data/mu284.csv")
# Estimate from the files as written, so R and svy-tab see the same doubles.
rd <- function(f) read.csv(f, stringsAsFactors = FALSE, na.strings = "")
datasets <- list(apistrat = rd("tests/data/apistrat.csv"), apiclus1 = rd("tests/data/apiclus1.csv"),
                 apiclus2 = rd("tests/data/apiclus2.csv"), mu284 = rd("tests/data/mu284.csv"),
                 "nsfe-2021" = rd("tests/data/nsfe-2021.csv"))

# One case = one design and one set of outcomes, as svy-tab would be asked.
cases <- list(
  list(id = "strat_dom", data = "apistrat", strata = "stype", psu = "", weight = "pw", fpc = "fpc",
       by = "comp_imp", rates = "sch_wide,hi_acs", means = "api00,acs_k3", totals = "enroll", shares = "stype",
       lonely = "fail", df = "domain", level = 95),
  list(id = "strat_frac", data = "apistrat", strata = "stype", psu = "", weight = "pw", fpc = "fpcfrac",
       by = "stype", rates = "sch_wide,awards=Yes", means = "api00", totals = "enroll",
       lonely = "fail", df = "domain", level = 95),
  list(id = "strat_all", data = "apistrat", strata = "stype", psu = "", weight = "pw", fpc = "fpc",
       by = "", rates = "sch_wide,hi_acs,yr_rnd=Yes", means = "api00,acs_k3", totals = "enroll",
       lonely = "fail", df = "domain", level = 95),
  list(id = "clus1", data = "apiclus1", strata = "", psu = "dnum", weight = "pw", fpc = "fpc",
       by = "stype", rates = "sch_wide,comp_imp,awards=Yes,awards=No", means = "api00", totals = "enroll",
       lonely = "fail", df = "domain", level = 95),
  list(id = "clus1_two", data = "apiclus1", strata = "", psu = "dnum", weight = "pw", fpc = "fpc",
       by = "stype,comp_imp", rates = "sch_wide", means = "api00", totals = "",
       lonely = "fail", df = "domain", level = 95),
  list(id = "clus1_full", data = "apiclus1", strata = "", psu = "dnum", weight = "pw", fpc = "fpc",
       by = "stype", rates = "sch_wide", means = "api00", totals = "",
       lonely = "fail", df = "full", level = 95),
  list(id = "clus2", data = "apiclus2", strata = "", psu = "dnum", weight = "pw", fpc = "fpc1",
       by = "stype", rates = "sch_wide,awards=Yes", means = "api00", totals = "enroll", shares = "yr_rnd",
       lonely = "fail", df = "domain", level = 90),
  list(id = "clus2_inf", data = "apiclus2", strata = "", psu = "dnum", weight = "pw", fpc = "",
       by = "stype", rates = "sch_wide", means = "api00", totals = "",
       lonely = "fail", df = "inf", level = 95),
  list(id = "clus2_df10", data = "apiclus2", strata = "", psu = "dnum", weight = "pw", fpc = "",
       by = "", rates = "sch_wide,comp_imp", means = "api00", totals = "",
       lonely = "fail", df = "10", level = 99)
)
nsfe_rates <- "pension_emp,pension_res,medical_emp,medical_res,injury,unemployment,maternity,might_stop,any_scheme"
cases[[length(cases) + 1]] <- list(id = "nsfe_cat", data = "nsfe-2021", strata = "province", psu = "city",
     weight = "weight", fpc = "fpc", by = "category", rates = nsfe_rates, means = "income", totals = "",
     shares = "labour", lonely = "fail", df = "domain", level = 95)
cases[[length(cases) + 1]] <- list(id = "nsfe_gender_hukou", data = "nsfe-2021", strata = "province", psu = "city",
     weight = "weight", fpc = "fpc", by = "gender,hukou", rates = nsfe_rates, means = "", totals = "",
     shares = "", lonely = "fail", df = "domain", level = 95)
cases[[length(cases) + 1]] <- list(id = "nsfe_all_full", data = "nsfe-2021", strata = "province", psu = "city",
     weight = "weight", fpc = "fpc", by = "", rates = nsfe_rates, means = "income", totals = "",
     shares = "category", lonely = "fail", df = "full", level = 90)
for (rule in c("remove", "certainty", "adjust", "average")) {
  cases[[length(cases) + 1]] <- list(id = paste0("lonely_", rule), data = "apiclus1", strata = "lstr",
       psu = "dnum", weight = "pw", fpc = "", by = "stype", rates = "sch_wide,awards=Yes",
       means = "api00", totals = "enroll", shares = "yr_rnd", lonely = rule, df = "domain", level = 95)
  cases[[length(cases) + 1]] <- list(id = paste0("lonely_all_", rule), data = "apiclus1", strata = "lstr",
       psu = "dnum", weight = "pw", fpc = "", by = "", rates = "sch_wide",
       means = "api00", totals = "enroll", lonely = rule, df = "domain", level = 95)
}

# Multistage designs (R's recursion), weights from the fpc, zero weights.
two <- function(id, data, psu, fpc, weight = "", strata = "", by = "stype", rates = "sch_wide,awards=Yes",
                means = "api00", totals = "enroll", shares = "yr_rnd", lonely = "fail", df = "domain",
                level = 95, ultimate = "0")
  list(id = id, data = data, strata = strata, psu = psu, weight = weight, fpc = fpc, by = by, rates = rates,
       means = means, totals = totals, shares = shares, lonely = lonely, df = df, level = level, ultimate = ultimate)
cases[[length(cases) + 1]] <- two("clus2_two", "apiclus2", "dnum,snum", "fpc1,fpc2")
cases[[length(cases) + 1]] <- two("clus2_two_all", "apiclus2", "dnum,snum", "fpc1,fpc2", by = "")
cases[[length(cases) + 1]] <- two("clus2_two_w", "apiclus2", "dnum,snum", "fpc1,fpc2", weight = "pw",
                                  by = "stype,comp_imp", shares = "")
cases[[length(cases) + 1]] <- two("clus2_two_frac", "apiclus2", "dnum,snum", "f1,f2", level = 90)
cases[[length(cases) + 1]] <- two("clus2_two_uc", "apiclus2", "dnum,snum", "fpc1,fpc2", ultimate = "1")
cases[[length(cases) + 1]] <- two("clus2_two_full", "apiclus2", "dnum,snum", "fpc1,fpc2", df = "full",
                                  shares = "")
cases[[length(cases) + 1]] <- two("clus2_strata2", "apiclus2", "dnum,snum", "fpc1,fpc2s", strata = "all,stype",
                                  lonely = "adjust")
for (rule in c("remove", "certainty", "adjust", "average")) {
  cases[[length(cases) + 1]] <- two(paste0("clus2_lone2_", rule), "apiclus2", "dnum,snum", "fpc1,fpc2l",
                                    lonely = rule)
  cases[[length(cases) + 1]] <- two(paste0("clus2_lone2_all_", rule), "apiclus2", "dnum,snum", "fpc1,fpc2l",
                                    by = "", lonely = rule)
}
cases[[length(cases) + 1]] <- two("mu284", "mu284", "id1,id2", "n1,n2", by = "half", rates = "big",
                                  means = "y1", totals = "y1", shares = "")
cases[[length(cases) + 1]] <- two("mu284_all", "mu284", "id1,id2", "n1,n2", by = "", rates = "big",
                                  means = "y1", totals = "y1", shares = "")
cases[[length(cases) + 1]] <- two("mu284_w", "mu284", "id1,id2", "n1,n2", by = "half", rates = "big",
                                  means = "y1", totals = "y1", shares = "", weight = "", ultimate = "1")
# The sample study's own design: provinces, cities, then workers within cities.
cases[[length(cases) + 1]] <- two("nsfe_two", "nsfe-2021", "city,resp_id", "fpc,fpc2", strata = "province",
                                  weight = "weight", by = "category", rates = nsfe_rates, means = "income",
                                  totals = "", shares = "labour")
cases[[length(cases) + 1]] <- two("nsfe_two_gender", "nsfe-2021", "city,resp_id", "fpc,fpc2", strata = "province",
                                  weight = "weight", by = "gender,hukou", rates = nsfe_rates, means = "",
                                  totals = "income", shares = "")
cases[[length(cases) + 1]] <- two("strat_nowt", "apistrat", "", "fpc", strata = "stype", by = "comp_imp",
                                  rates = "sch_wide", shares = "stype")
cases[[length(cases) + 1]] <- two("strat_nowt_all", "apistrat", "", "fpc", strata = "stype", by = "",
                                  rates = "sch_wide", shares = "")
cases[[length(cases) + 1]] <- two("strat_nowt_frac", "apistrat", "", "fpcfrac", strata = "stype",
                                  by = "stype", rates = "sch_wide", shares = "")
cases[[length(cases) + 1]] <- two("strat_zero", "apistrat", "", "fpc", strata = "stype", weight = "pw0",
                                  by = "comp_imp", rates = "sch_wide,hi_acs", means = "api00,acs_k3",
                                  shares = "stype")
cases[[length(cases) + 1]] <- two("strat_zero_all", "apistrat", "", "fpc", strata = "stype", weight = "pw0",
                                  by = "", rates = "sch_wide", means = "api00", shares = "")
# Two stages named, no fpc: R's variance is the first stage's alone (with replacement).
cases[[length(cases) + 1]] <- two("clus2_two_nofpc", "apiclus2", "dnum,snum", "", weight = "pw")
cases[[length(cases) + 1]] <- two("clus1_zero", "apiclus1", "dnum", "fpc", weight = "pw0", by = "stype",
                                  shares = "")

for (i in seq_along(cases)) {
  if (is.null(cases[[i]]$shares)) cases[[i]]$shares <- ""
  if (is.null(cases[[i]]$ultimate)) cases[[i]]$ultimate <- "0"
}

source("tests/ref/tab-common.R")
rows <- compute_cases(cases, datasets)
write_results(cases, rows, "tests/ref/tab-cases.csv", "tests/ref/tab-api.csv")
