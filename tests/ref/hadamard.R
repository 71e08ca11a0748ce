# R's Hadamard matrices for BRR (survey:::hadamard(n), as brrweights picks
# them for n pairs of PSUs): for each n, the size and a checksum of the 0/1
# entries, sum over i, j of H[i, j] * (i * 1000003 + j * 7919) (1-based).
# Run from the source root: Rscript tests/ref/hadamard.R -> tests/ref/hadamard.csv
# (unit test weight/hadamard_r compares svy_hadamard with every row).
suppressMessages(library(survey))
ns <- c(1:200, 250, 255, 256, 300, 500, 513, 1000, 2000)
out <- do.call(rbind, lapply(ns, function(n) {
  H <- survey:::hadamard(n)
  i <- row(H); j <- col(H)
  data.frame(n = n, size = nrow(H), sum = sprintf("%.17g", sum(H * (i * 1000003 + j * 7919))))
}))
write.csv(out, "tests/ref/hadamard.csv", row.names = FALSE, quote = FALSE)
