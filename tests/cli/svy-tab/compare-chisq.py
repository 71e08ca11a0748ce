#!/usr/bin/env python3
"""svy-tab --test against R's svychisq on R x C tables (tests/ref/issue15-chisq.csv,
written by tests/ref/issue15-chisq.R): for every case and method (f, chisq)
runs svy-tab with the case's arguments and --test VAR --test-method M, and
compares the statistic (F; under chisq the unadjusted X^2, to 1e-9), ndf,
ddf and p (1e-8) with R's.  Usage: compare-chisq.py SVY_TAB DATA_DIR REF_CSV"""
import csv
import io
import shlex
import subprocess
import sys


def close(ours, theirs, tol):
    if theirs == "":
        return ours == ""
    if ours == "":
        return False
    a, b = float(ours), float(theirs)
    return abs(a - b) <= tol * abs(b)


def main():
    tab, data, ref = sys.argv[1:4]
    with open(ref, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    bad, done, runs = 0, 0, {}
    for r in rows:
        key = (r["args"], r["var"], r["method"])
        if key not in runs:
            args = shlex.split(r["args"].replace("$DATA", data))
            out = subprocess.run([tab] + args + ["--test", r["var"], "--test-method", r["method"]],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{r['case']} {r['method']}: exit {out.returncode}: {out.stderr.strip()}", file=sys.stderr)
                bad += 1
                runs[key] = []
                continue
            runs[key] = list(csv.DictReader(io.StringIO(out.stdout)))
        other_col = r["args"].split("-b ", 1)[1].split()[0].split(",")
        mine = [o for o in runs[key] if o["variable"] == r["outcome"] and
                (r["other"] == "" or o.get(other_col[0]) == r["other"])]
        if len(mine) != 1:
            print(f"{r['case']} {r['method']} other={r['other']}: {len(mine)} rows", file=sys.stderr)
            bad += 1
            continue
        o = mine[0]
        stat_tol = 1e-9 if r["method"] == "chisq" else 1e-8
        for what, ours, theirs, tol in (("statistic", o["statistic"], r["statistic"], stat_tol),
                                        ("ndf", o["ndf"], r["ndf"], 1e-8), ("ddf", o["ddf"], r["ddf"], 1e-8),
                                        ("p", o["p_value"], r["p"], 1e-8)):
            if not close(ours, theirs, tol):
                print(f"{r['case']} {r['method']} other={r['other']} {what}: ours={ours} R={theirs}",
                      file=sys.stderr)
                bad += 1
        done += 1
    if bad:
        sys.exit(1)
    print(f"all {done} R svychisq rows agree")


main()
