/* Synthetic survey for bench/tab.sh: 31 strata (province), 1,240 PSUs (40 per
 * stratum), three worker categories x two genders, weights and six 0/1
 * outcomes y1..y6, then for a two-stage design a respondent id (the
 * second-stage unit) and the fpc of both stages (fpc1: 100 PSUs in each
 * province; fpc2: 20 to 60 times the PSU's sampled rows).  Rows come grouped
 * by PSU; with "shuffle" they come in a random order instead, as files
 * sorted by respondent do (the same rows, ids and all).
 * Usage: gen-tab ROWS [SEED] [shuffle] > file.csv   (deterministic for a seed) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s;

static uint64_t next(void)
{
    /* splitmix64: fast, and the same stream on every platform */
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen-tab ROWS [SEED]\n");
        return 2;
    }
    long long rows = atoll(argv[1]);
    s = argc > 2 ? strtoull(argv[2], NULL, 10) : 20211;
    int shuffle = argc > 3 && strcmp(argv[3], "shuffle") == 0;
    const int H = 31, PER = 40, NPSU = H * PER;
    printf("province,psu,weight,category,gender,y1,y2,y3,y4,y5,y6,id,fpc1,fpc2\n");
    char **lines = shuffle ? malloc((size_t)rows * sizeof *lines) : NULL;
    if (shuffle && !lines)
        return 1;
    long long done = 0;
    char buf[128];
    for (int p = 0; p < NPSU; p++) {
        long long take = rows * (p + 1) / NPSU - done;
        int prov = p / PER + 1;
        double psu_effect = unif() * 0.3 - 0.15; /* clustering: PSUs differ */
        double base_w = 50 + 400 * unif();
        long long pop = take * (20 + p % 41);
        for (long long k = 0; k < take; k++) {
            int cat = 1 + (int)(unif() * 3);
            int gender = 1 + (unif() < 0.48);
            double w = base_w * (0.7 + 0.6 * unif());
            int n = snprintf(buf, sizeof buf, "%d,%d,%.2f,%d,%d", prov, p + 1, w, cat, gender);
            for (int j = 0; j < 6; j++) {
                double pr = 0.2 + 0.1 * j + 0.05 * cat - 0.03 * gender + psu_effect;
                n += snprintf(buf + n, sizeof buf - (size_t)n, ",%d", unif() < pr);
            }
            snprintf(buf + n, sizeof buf - (size_t)n, ",%lld,100,%lld\n", done + k + 1, pop);
            if (shuffle) {
                if (!(lines[done + k] = strdup(buf)))
                    return 1;
            } else {
                fputs(buf, stdout);
            }
        }
        done += take;
    }
    if (shuffle) {
        for (long long i = rows - 1; i > 0; i--) { /* Fisher-Yates on the same stream */
            long long j = (long long)(next() % (uint64_t)(i + 1));
            char *t = lines[i];
            lines[i] = lines[j];
            lines[j] = t;
        }
        for (long long i = 0; i < rows; i++) {
            fputs(lines[i], stdout);
            free(lines[i]);
        }
        free(lines);
    }
    return ferror(stdout) ? 1 : 0;
}
