# Reference values for the p-column design covariance (libsurvey/vtotals.c):
# R's vcov(svytotal(~a + b + c, design)) on R's api and mu284 data, one
# stage, two stages with fpc (multistage), the ultimate cluster, weights from
# the fpc, lone PSUs under every rule, and a domain (subset()).
# Run from the repository root after tests/ref/model-api.R (its inputs):
#   Rscript tests/ref/vtotals-api.R
# Writes tests/data/model/mu284.csv, tests/ref/vtotals-cases.csv and
# tests/ref/vtotals-api.csv (case, i, j, covariance with 17 digits).
suppressPackageStartupMessages(library(survey))
data(mu284)
options(survey.adjust.domain.lonely = FALSE)
mu <- mu284; mu$y2 <- mu$y1^2; mu$one <- 1
write.csv(mu, "tests/data/model/mu284.csv", row.names = FALSE)
rd <- function(f) read.csv(sprintf("tests/data/model/%s.csv", f), stringsAsFactors = FALSE)
datasets <- list(apistrat = rd("apistrat"), apiclus1 = rd("apiclus1"), apiclus2 = rd("apiclus2"), mu284 = mu)

cases <- read.csv(text = "
id,data,weight,strata,psu,fpc,ultimate,lonely,columns,domain
strat,apistrat,pw,stype,,fpc,0,fail,api00 ell meals,
strat_nofpc,apistrat,pw,stype,,,0,fail,api00 ell meals,
strat_domain,apistrat,pw,stype,,fpc,0,fail,api00 ell meals,ell > 20
clus1,apiclus1,pw,,dnum,fpc,0,fail,api00 ell meals,
clus2,apiclus2,pw,,dnum snum,fpc1 fpc2,0,fail,api00 ell meals,
clus2_ultimate,apiclus2,pw,,dnum snum,fpc1 fpc2,1,fail,api00 ell meals,
clus2_fpcweights,apiclus2,,,dnum snum,fpc1 fpc2,0,fail,api00 ell meals,
clus2_domain,apiclus2,pw,,dnum snum,fpc1 fpc2,0,fail,api00 ell meals,meals > 50
mu284,mu284,,,id1 id2,n1 n2,0,fail,y1 y2 one,
mu284_domain,mu284,,,id1 id2,n1 n2,0,fail,y1 y2 one,y1 > 30
lonely_adjust,apiclus1,pw,lstr,dnum,,0,adjust,api00 ell meals,
lonely_average,apiclus1,pw,lstr,dnum,,0,average,api00 ell meals,
lonely_remove,apiclus1,pw,lstr,dnum,,0,remove,api00 ell meals,
lonely_certainty,apiclus1,pw,lstr,dnum,,0,certainty,api00 ell meals,
", stringsAsFactors = FALSE, colClasses = "character")
write.csv(cases, "tests/ref/vtotals-cases.csv", row.names = FALSE, quote = FALSE)

split1 <- function(s) if (is.na(s) || s == "") character(0) else strsplit(s, " ")[[1]]
plus <- function(v) as.formula(paste0("~", paste(v, collapse = "+")))
rows <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  options(survey.lonely.psu = cs$lonely, survey.ultimate.cluster = cs$ultimate == "1")
  d <- datasets[[cs$data]]
  ids <- if (cs$psu == "") ~1 else plus(split1(cs$psu))
  strata <- if (cs$strata == "") NULL else plus(split1(cs$strata))
  fpc <- if (cs$fpc == "") NULL else plus(split1(cs$fpc))
  des <- if (cs$weight == "") svydesign(ids = ids, strata = strata, fpc = fpc, data = d, nest = TRUE)
         else svydesign(ids = ids, strata = strata, fpc = fpc, weights = plus(cs$weight), data = d, nest = TRUE)
  if (cs$domain != "") des <- des[with(d, eval(parse(text = cs$domain))), ]
  V <- vcov(svytotal(plus(split1(cs$columns)), des))
  for (a in seq_len(nrow(V))) for (b in seq_len(ncol(V)))
    rows[[length(rows) + 1]] <- data.frame(case = cs$id, i = a - 1, j = b - 1, value = sprintf("%.17g", V[a, b]))
}
write.csv(do.call(rbind, rows), "tests/ref/vtotals-api.csv", row.names = FALSE, quote = FALSE)
