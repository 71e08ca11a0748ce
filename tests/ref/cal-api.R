# References for svy-tab --calibrated-to (issue 16): R's rake() and
# postStratify() on linearization designs, svyrecvar's calibration residuals.
# Run from the source root: Rscript tests/ref/cal-api.R
# Writes tests/data/cal-*.csv (the data with R's calibrated weight, printed
# to 17 digits: exactly R's doubles), the margins in tests/data/cal-margins/,
# tests/ref/cal-cases.csv (svy-tab's arguments per case) and
# tests/ref/cal-api.csv (R's numbers: estimate, SE, Wald interval with the
# design's df, df, deff).
#
# Raking converges tightly here (epsilon 1e-13 relative): R's svyrecvar uses
# the weights of the last raking pass right after each margin's step, which
# equal the final weights svy-tab reads only when raking has converged.
# With R's default control (maxit 10, epsilon 1) they differ a little; the
# SEs R then reports are written to tests/ref/cal-default.csv beside ours on
# the final weights (see the note there).
suppressMessages(library(survey))
options(digits = 17)
data(api)
wcsv <- function(d, f) write.csv(d, f, row.names = FALSE, quote = FALSE, na = "")
num <- function(x) trimws(formatC(as.numeric(x), digits = 17, format = "g"))
tight <- list(maxit = 200, epsilon = 1e-13)
cases <- list(); out <- list()

prep <- function(d, w) {
  data.frame(snum = d$snum, dnum = d$dnum, stype = as.character(d$stype), yr_rnd = as.character(d$yr.rnd),
             sch_wide = as.integer(d$sch.wide == "Yes"), comp_imp = as.integer(d$comp.imp == "Yes"),
             awards = as.character(d$awards), api00 = d$api00, enroll = d$enroll, api_stu = d$api.stu,
             fpc = if (is.null(d$fpc)) NA else d$fpc, fpc1 = if (is.null(d$fpc1)) NA else d$fpc1,
             fpc2 = if (is.null(d$fpc2)) NA else d$fpc2, wc = num(w))
}
margin <- function(var, levels, totals, file) {
  wcsv(setNames(data.frame(levels, num(totals)), c(var, "total")), file.path("tests/data/cal-margins", file))
  paste0("--calibrated-to $DATA/cal-margins/", file)
}

# sub: a subpopulation (svy-tab --subpop), R's subset() of the calibrated
# design, which keeps every row (weight 0 outside) and the calibration.
run <- function(id, des, args, file, sub = NULL) {
  cases[[length(cases) + 1]] <<- data.frame(id = id, data = file, args = args)
  des <- update(des, comp_imp = as.integer(comp.imp == "Yes"), api_stu = api.stu)
  if (!is.null(sub)) des <- des[eval(sub, des$variables), ]
  doms <- list()
  for (s in sort(unique(as.character(des$variables$stype)))) doms[[s]] <- subset(des, stype == s)
  doms[["(all)"]] <- des
  for (dn in names(doms)) {
    d <- doms[[dn]]; df <- degf(d); tq <- qt(0.975, df) # the domain's rows of nonzero weight
    one <- function(var, kind, est, se, deff)
      out[[length(out) + 1]] <<- data.frame(case = id, domain = dn, variable = var, kind = kind,
        estimate = num(est), se = num(se), ci_low = num(est - tq * se), ci_high = num(est + tq * se), df = df,
        deff = num(deff))
    m <- svymean(~api00, d, deff = TRUE); one("api00", "mean", coef(m), SE(m), deff(m))
    t <- svytotal(~enroll, d, deff = TRUE); one("enroll", "total", coef(t), SE(t), deff(t))
    r <- svymean(~comp_imp, d, deff = TRUE); one("comp_imp", "rate", coef(r), SE(r), deff(r))
    d$variables$aw <- factor(d$variables$awards)
    sh <- svymean(~aw, d, deff = TRUE)
    for (k in seq_along(coef(sh)))
      one(paste0("awards=", levels(d$variables$aw)[k]), "share", coef(sh)[k], SE(sh)[k], deff(sh)[k])
    q <- svyratio(~api_stu, ~enroll, d)
    one("api_stu/enroll", "ratio", coef(q), SE(q), NA)
  }
}

tab <- function(x) { t <- table(as.character(x)); list(names(t), as.vector(t)) }
pop.stype <- setNames(data.frame(tab(apipop$stype)), c("stype", "Freq"))
# apipop's yr.rnd is mostly NA: a margin with the same grand total (6194)
pop.yr <- data.frame(yr.rnd = c("No", "Yes"), Freq = c(5300, 894))
pop.sw <- c(No = 1072, Yes = 5122)   # R's example (?rake)
ms <- margin("stype", pop.stype$stype, pop.stype$Freq, "stype.csv")

# apistrat, stratified by stype, raked to stype and yr.rnd (the issue's case).
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
rs <- rake(dstrat, list(~stype, ~yr.rnd), list(pop.stype, pop.yr), control = tight)
wcsv(prep(apistrat, weights(rs)), "tests/data/cal-strat.csv")
my <- margin("yr_rnd", pop.yr$yr.rnd, pop.yr$Freq, "yr_rnd.csv")
run("strat_rake", rs, paste("-s stype --fpc fpc", ms, my), "cal-strat")
run("strat_rake_sub", rs, paste("-s stype --fpc fpc", ms, my, "--subpop 'yr_rnd == \"No\"'"), "cal-strat",
    quote(yr.rnd == "No"))

# apiclus1 (one stage, clusters of districts, fpc): post-stratified by stype.
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
ps <- postStratify(dclus1, ~stype, pop.types)
stopifnot(abs(SE(svymean(~api00, ps)) - 23.9204864450904) < 1e-9)
wcsv(prep(apiclus1, weights(ps)), "tests/data/cal-clus1-ps.csv")
mt <- margin("stype", pop.types$stype, pop.types$Freq, "stype-ex.csv")
run("clus1_ps", ps, paste("-p dnum --fpc fpc", mt), "cal-clus1-ps")

# The same with three weights of 0: R counts them with weight 1 in the
# residual (svyrecvar: psw[zeroes] = 1), so their PSUs get -(cell mean).
z1 <- apiclus1; z1$pw[c(3, 20, 50)] <- 0
ps0 <- postStratify(svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = z1), ~stype, pop.types)
wcsv(prep(z1, weights(ps0)), "tests/data/cal-clus1-ps-zero.csv")
run("clus1_ps_zero", ps0, paste("-p dnum --fpc fpc", mt), "cal-clus1-ps-zero")

# apiclus1 raked by stype and sch.wide (R's ?rake example).
msw <- margin("sch_wide", c(0, 1), pop.sw, "sch_wide.csv")
dflt <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, data.frame(sch.wide = c("No", "Yes"), Freq = pop.sw)))
rc <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, data.frame(sch.wide = c("No", "Yes"), Freq = pop.sw)),
           control = tight)
wcsv(prep(apiclus1, weights(rc)), "tests/data/cal-clus1-rake.csv")
wcsv(prep(apiclus1, weights(dflt)), "tests/data/cal-clus1-rake-default.csv") # R's default control
run("clus1_rake", rc, paste("-p dnum --fpc fpc", mt, msw), "cal-clus1-rake")
run("clus1_rake_sub", rc, paste("-p dnum --fpc fpc", mt, msw, "--subpop 'yr_rnd == \"No\"'"), "cal-clus1-rake",
    quote(yr.rnd == "No"))
run("clus1_ps_sub", ps, paste("-p dnum --fpc fpc", mt, "--subpop 'enroll > 300'"), "cal-clus1-ps",
    quote(!is.na(enroll) & enroll > 300))

# apiclus2 (two stages: districts, schools), the ultimate-cluster variance
# with the first stage's fpc, raked by stype and sch.wide.
options(survey.ultimate.cluster = TRUE)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
r2d <- rake(dclus2, list(~stype, ~sch.wide), list(pop.types, data.frame(sch.wide = c("No", "Yes"), Freq = pop.sw)))
r2 <- rake(dclus2, list(~stype, ~sch.wide), list(pop.types, data.frame(sch.wide = c("No", "Yes"), Freq = pop.sw)),
           control = tight)
wcsv(prep(apiclus2, weights(r2)), "tests/data/cal-clus2-rake.csv")
run("clus2_rake", r2, paste("-p dnum,snum --fpc fpc1,fpc2 --ultimate-cluster", mt, msw), "cal-clus2-rake")
options(survey.ultimate.cluster = FALSE)
# The same, two stages (R's multistage recursion: schools within districts).
r2m <- rake(dclus2, list(~stype, ~sch.wide), list(pop.types, data.frame(sch.wide = c("No", "Yes"), Freq = pop.sw)),
            control = tight)
run("clus2_rake_2stage", r2m, paste("-p dnum,snum --fpc fpc1,fpc2", mt, msw), "cal-clus2-rake")
run("clus2_rake_2stage_sub", r2m, paste("-p dnum,snum --fpc fpc1,fpc2", mt, msw, "--subpop 'yr_rnd == \"No\"'"),
    "cal-clus2-rake", quote(yr.rnd == "No"))

# --diff stype: each level minus E.  R's svyby(covmat = TRUE) fails on
# calibrated designs (their subsets keep every row: the influence matrices do
# not conform), so the joint linearization is taken from svyratio(covmat =
# TRUE) of y 1{stype = l} over 1{stype = l}, whose linearized values are the
# domain means' own, then svycontrast.
dif <- list()
diffs <- function(id, des) {
  des <- update(des, comp_imp = as.integer(comp.imp == "Yes"), iE = as.numeric(stype == "E"),
                iH = as.numeric(stype == "H"), iM = as.numeric(stype == "M"))
  for (v in c("api00", "comp_imp")) {
    y <- des$variables[[v]]
    des$variables$yE <- y * des$variables$iE; des$variables$yH <- y * des$variables$iH
    des$variables$yM <- y * des$variables$iM
    for (l in c("H", "M")) {
      r <- svyratio(as.formula(paste0("~y", l, " + yE")), as.formula(paste0("~i", l, " + iE")), des, covmat = TRUE)
      ct <- svycontrast(r, c(1, 0, 0, -1))
      dif[[length(dif) + 1]] <<- data.frame(case = id, level = l, variable = v, estimate = num(coef(ct)),
                                            se = num(SE(ct)))
    }
  }
}
diffs("strat_rake", rs); diffs("clus1_ps", ps); diffs("clus1_rake", rc)
write.csv(do.call(rbind, dif), "tests/ref/cal-diff.csv", row.names = FALSE, quote = FALSE)

# The median's Woodruff SE and the Rao-Scott test on the raked apistrat.
q <- svyquantile(~api00, rs, 0.5, ci = TRUE)
ch <- svychisq(~comp_imp + stype, update(rs, comp_imp = as.integer(comp.imp == "Yes")))
write.csv(data.frame(what = c("median_se", "chisq_F", "chisq_ndf", "chisq_ddf", "chisq_p"),
                     value = num(c(SE(q), ch$statistic, ch$parameter, ch$p.value))),
          "tests/ref/cal-extra.csv", row.names = FALSE, quote = FALSE)

cs <- do.call(rbind, cases)
write.table(cs, "tests/ref/cal-cases.csv", sep = ",", row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, out), "tests/ref/cal-api.csv", row.names = FALSE, quote = FALSE)

# R's default control: the SE of the mean of api00 with R's intermediate
# weights (what R reports) and with the final weights (what the formula
# gives on the weights a file carries).
onfinal <- function(des) { # the "raking" postStrata's weights replaced by the final ones
  k <- length(des$postStrata); rk <- des$postStrata[[k]]
  for (i in seq_along(rk)) attr(rk[[i]], "weights") <- weights(des)
  des$postStrata[[k]] <- rk; des
}
dd <- data.frame(design = c("dclus1 rake stype+sch.wide", "dclus2 rake stype+sch.wide (ultimate cluster)"),
  se_r_default = num(c(SE(svymean(~api00, dflt)), SE(svymean(~api00, r2d)))),
  se_final_weights = num(c(SE(svymean(~api00, onfinal(dflt))), SE(svymean(~api00, onfinal(r2d))))),
  se_tight = num(c(SE(svymean(~api00, rc)), SE(svymean(~api00, r2)))))
write.csv(dd, "tests/ref/cal-default.csv", row.names = FALSE, quote = FALSE)
print(dd)
