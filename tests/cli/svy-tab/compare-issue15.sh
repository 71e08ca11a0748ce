#!/usr/bin/env bash
# Run svy-tab on the cases of an R reference whose id starts with PREFIX
# (tests/ref/issue15-tab.csv by default) and compare estimate, se, ci_low,
# ci_high, df (and deff, where the reference has it) with R's to 1e-9 relative.  Rows whose R estimate is NA
# are skipped (R ran them without na.rm); CI ends and df that R left NA
# are not compared.  Python 3 is there wherever meson is.
# Usage: compare-issue15.sh PREFIX [VALUES.csv]   (PREFIX: sub_, ratio_...)
set -eu
exec python3 - "$1" "${2:-$SRC/tests/ref/issue15-tab.csv}" <<'PY'
import csv, io, os, subprocess, sys
prefix, values = sys.argv[1], sys.argv[2]
rows = [r for r in csv.DictReader(open(values, newline="")) if r["case"].startswith(prefix)]
opt = {"mean": "--mean", "total": "--total", "rate": "-r", "ratio": "--ratio", "quantile": "--quantile"}
groups = {}
for r in rows:
    groups.setdefault((r["case"], r["by"], r["extra"] == "ci df=Inf"), []).append(r)
fail = compared = 0
for (case, by, dfinf), rs in groups.items():
    r0 = rs[0]
    a = ["svy-tab"]
    for flag, col in (("-s", "strata"), ("-p", "psu"), ("-w", "weight"), ("--fpc", "fpc")):
        if r0[col]:
            a += [flag, r0[col].replace(" ", ",")]
    if r0["subpop"]:
        a += ["--subpop", r0["subpop"]]
    if by:
        a += ["-b", by]
    if any(r["extra"] == "wald CI" for r in rs):
        a += ["--ci", "wald"]
    if dfinf:
        a += ["--df", "inf"]
    seen = []
    for r in rs:
        if (r["statistic"], r["variable"]) not in seen:
            seen.append((r["statistic"], r["variable"]))
    for st, var in seen:
        a += [opt[st], var]
    probs = sorted({r["p"] for r in rs if r["p"] != "NA"}, key=float)
    if probs:
        a += ["--probs", ",".join(probs)]
    a.append(os.path.join(os.environ["DATA"], r0["data"] + ".csv"))
    out = subprocess.run(a, capture_output=True, text=True)
    if out.returncode:
        print(case, "exit", out.returncode, out.stderr, file=sys.stderr)
        fail = 1
        continue
    ours = {}
    for o in csv.DictReader(io.StringIO(out.stdout)):
        ours[(o.get(by, "") if by else "", o["statistic"], o["variable"], o.get("p", "NA") or "NA")] = o
    for r in rs:
        if r["estimate"] == "NA":
            continue
        key = (r["domain"], r["statistic"], r["variable"], r["p"])
        if r["p"] != "NA":
            key = key[:3] + (next((p for p in (o[3] for o in ours) if p != "NA" and float(p) == float(r["p"])), "?"),)
        o = ours.get(key)
        if o is None:
            print(case, key, "no row", file=sys.stderr)
            fail = 1
            continue
        for f in ("estimate", "se", "ci_low", "ci_high", "df", "deff"):
            ref = r.get(f, "NA")
            if ref == "NA" or (f == "df" and r["ci_low"] == "NA"):
                continue
            x = o[f]
            if ref == "Inf" and x in ("inf", "Inf"):
                continue
            if x == "" or abs(float(x) - float(ref)) > 1e-9 * abs(float(ref)):
                print(case, key, f, "ours", x, "R", ref, file=sys.stderr)
                fail = 1
        compared += 1
if fail:
    sys.exit(1)
if not compared:
    sys.exit("no %s rows compared" % prefix)
print("all %d R reference rows of %s agree" % (compared, prefix))
PY
