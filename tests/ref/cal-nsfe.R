# The sample study's calibration-aware SEs against R (a check, not a test: it
# needs `make demo` first).  Run from the source root: Rscript tests/ref/cal-nsfe.R
# R rakes the design weights to the same margins (tightly) and svymean gives the
# SE of each scheme's rate among platform workers; svy-tab's are in
# samples/report/out/by-category.csv.  Agreement is limited by the weights'
# convergence (svy-weight to 1e-10): about 1e-12.
suppressMessages(library(survey)); options(digits = 17)
d <- read.csv("samples/report/out/weighted.csv")
des <- svydesign(id = ~city + resp_id, strata = ~province, fpc = ~fpc + fpc2, weights = ~weight, data = d)
mp <- read.csv("samples/nsfe-2021-margins/province.csv"); names(mp)[2] <- "Freq"
mc <- read.csv("samples/nsfe-2021-margins/category.csv"); names(mc)[2] <- "Freq"
r <- rake(des, list(~province, ~category), list(mp, mc), control = list(maxit = 200, epsilon = 1e-13))
cat("largest relative difference of the weights:", max(abs(weights(r) / d$weight_final - 1)), "\n")
ours <- read.csv("samples/report/out/by-category.csv")
for (v in c("pension_emp", "pension_res", "medical_emp", "medical_res", "injury", "unemployment", "maternity")) {
  se <- SE(svymean(as.formula(paste0("~", v)), subset(r, category == 1), na.rm = TRUE))
  o <- ours$se[ours$category == "platform worker" & ours$variable == v]
  cat(sprintf("%-13s R %.17g svy-tab %.17g rel %.2g\n", v, se, o, abs(o / se - 1)))
}
