# Expectations for the real-world corpus (../shared/testdata/realworld), written
# with R's haven, which reads through its own copy of ReadStat: per file the
# rows and columns, per column a type, the number of missing values (system and
# tagged; SPSS user-missing values are kept as values), the sum of the numbers
# and the total UTF-8 bytes of the text.  Date and time columns are skipped:
# haven turns them into R dates, svy keeps the stored numbers.
#
# Run from the repository root:
#   Rscript tests/ref/realworld-haven.R ../shared/testdata/realworld
# It writes tests/ref/realworld-files.csv and tests/ref/realworld-columns.csv.
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "../shared/testdata/realworld"
manifest <- read.csv(file.path(dir, "MANIFEST.csv"), stringsAsFactors = FALSE)
files <- manifest$file[!grepl("^csv", manifest$format)]

# Files svy refuses on purpose, whatever haven does with them.
svy_refuses <- c(
  "pandas-stata1_encoding_118.dta" = "invalid UTF-8 in a dta 118 (needs --encoding)"
)

read_any <- function(path) {
  ext <- tolower(sub(".*\\.", "", path))
  switch(ext,
    dta = read_dta(path),
    sav = read_sav(path, user_na = TRUE),
    zsav = read_sav(path, user_na = TRUE),
    por = read_por(path, user_na = TRUE),
    stop("unknown extension"))
}

frows <- list()
crows <- list()
for (f in sort(files)) {
  d <- tryCatch(read_any(file.path(dir, f)), error = function(e) e)
  if (inherits(d, "error") || f %in% names(svy_refuses)) {
    why <- if (f %in% names(svy_refuses)) svy_refuses[[f]] else conditionMessage(d)
    frows[[f]] <- data.frame(file = f, status = "error", rows = NA, cols = NA,
                             note = gsub(paste0(dir, "/"), "", gsub("[\r\n]+", " ", why), fixed = FALSE))
    next
  }
  frows[[f]] <- data.frame(file = f, status = "ok", rows = nrow(d), cols = ncol(d), note = "")
  for (j in seq_len(ncol(d))) {
    x <- d[[j]]
    kind <- if (inherits(x, c("Date", "POSIXct", "hms", "difftime"))) "date"
            else if (is.character(x)) "string"
            else "numeric"
    # user-missing values stay values: strip the class that would hide them
    v <- if (inherits(x, "haven_labelled_spss")) unclass(x) else x
    v <- if (kind == "numeric") as.double(unclass(v)) else v
    n_na <- if (kind == "string") 0L else sum(is.na(v))
    s <- if (kind == "numeric") sum(v, na.rm = TRUE) else NA
    b <- if (kind == "string") sum(nchar(enc2utf8(v), type = "bytes")) else NA
    crows[[length(crows) + 1]] <- data.frame(file = f, col = j, name = names(d)[j], kind = kind,
                                             n_missing = n_na, sum = sprintf("%.17g", s), bytes = b)
  }
}
write.csv(do.call(rbind, frows), "tests/ref/realworld-files.csv", row.names = FALSE, na = "")
write.csv(do.call(rbind, crows), "tests/ref/realworld-columns.csv", row.names = FALSE, na = "")
