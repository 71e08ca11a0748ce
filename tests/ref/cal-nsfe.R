# The sample study's calibration-aware SEs against R (a check, not a test: it
# needs `make demo` first).  Run from the source root: Rscript tests/ref/cal-nsfe.R
# R rakes the design weights to the same margins (tightly) and svymean gives the
# SE of each scheme's rate among platform workers; svy-tab's are in
# samples/report/out/by-category.csv.  Agreement is limited by the weights'
# convergence (svy-weight to 1e-10): about 1e-12.  Then the report's svy-model
# tables (coefficients' SEs, margins by category) against svyglm on the raked
# design, and svy-tab's --test table against svychisq.
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

# svy-model --calibrated-to (samples/report/out/model-pension.csv, margins-category.csv):
# R's svyglm on the raked design; the 26 rows without gender leave the model and keep
# their raking residual (svy.varcoef pads them with 0).
for (v in c("category", "gender", "hukou", "province")) r$variables[[v]] <- factor(r$variables[[v]])
fit <- svyglm(pension_emp ~ category + gender + age + hukou + province, design = r, family = quasibinomial())
om <- read.csv("samples/report/out/model-pension.csv")
rel <- max(abs(om$se_log_odds / SE(fit) - 1))
cat(sprintf("svy-model coefficients: %d SEs, largest relative difference %.2g\n", length(SE(fit)), rel))
adj <- svyglm(pension_emp ~ gender + age + hukou + province, design = r, family = quasibinomial())
# svypredmeans cannot run with NA rows in the design (it predicts for every row);
# tests/ref/model-cal.R's predmeans_na is its code without them.
src <- readLines("tests/ref/model-cal.R")
a <- grep("^predmeans_na <-", src)
eval(parse(text = src[a:(a - 1 + match("}", src[a:length(src)]))]))
pm <- predmeans_na(adj, ~category)
omg <- read.csv("samples/report/out/margins-category.csv")
lv <- levels(r$variables$category)
cat(sprintf("svy-model margins by category: largest relative difference of the SEs %.2g\n",
            max(abs(omg$se / SE(pm)[lv] - 1))))
ot <- read.csv("samples/report/out/tests-province.csv")
for (v in ot$variable) {
  t <- svychisq(as.formula(paste0("~", v, "+province")), r, statistic = "F")
  cat(sprintf("svy-tab --test %-13s F R %.17g ours %.17g rel %.2g\n", v, t$statistic, ot$statistic[ot$variable == v],
              abs(ot$statistic[ot$variable == v] / t$statistic - 1)))
}
