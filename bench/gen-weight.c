/* Synthetic sample for bench/weight.sh: ten regions with a design weight each,
 * gender x five age groups, urban/rural, an income and a text column.  With
 * "margins DIR" it writes the three population margins raked to instead.
 *
 * "real ROWS" writes weights as real surveys have them after nonresponse
 * adjustment: 31 provinces of 12 cities each (the PSUs), a lognormal design
 * weight per city times a lognormal factor per respondent (household size,
 * nonresponse class), printed to 6 decimals, so nearly every row has its own
 * weight; gender x worker category; rows in the order respondents were
 * interviewed (cities interleaved, not grouped); income and job missing on
 * some rows.  "real-margins DIR" writes its province and gender x category
 * margins.
 * Usage: gen-weight ROWS [SEED] > file.csv | gen-weight margins DIR
 *        gen-weight real ROWS [SEED] > file.csv | gen-weight real-margins DIR */
#include <math.h>
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

static FILE *open_in(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

/* A standard normal deviate (Box-Muller). */
static double gauss(void)
{
    double u = ((double)(next() >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(next() >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* 200 million workers: province p (1..31) holds a share rising with p;
 * gender x category cells fixed shares. */
#define REAL_POP 200000000.0
static const double cat_share[6] = {0.08, 0.22, 0.20, 0.06, 0.24, 0.20};

static int real_margins(const char *dir)
{
    FILE *f = open_in(dir, "province.csv");
    fprintf(f, "province,total\n");
    double tot = 0;
    for (int p = 1; p <= 31; p++)
        tot += 10 + p;
    long long sum = 0;
    for (int p = 1; p <= 31; p++) {
        long long t = p < 31 ? (long long)(REAL_POP * (10 + p) / tot) : (long long)REAL_POP - sum;
        sum += t;
        fprintf(f, "%d,%lld\n", 10 + p, t);
    }
    fclose(f);
    f = open_in(dir, "gender_category.csv");
    fprintf(f, "gender,category,total\n");
    sum = 0;
    for (int k = 0; k < 6; k++) {
        long long t = k < 5 ? (long long)(REAL_POP * cat_share[k]) : (long long)REAL_POP - sum;
        sum += t;
        fprintf(f, "%d,%d,%lld\n", k / 3 + 1, k % 3 + 1, t);
    }
    fclose(f);
    return 0;
}

static int real(long long n, uint64_t seed)
{
    s = seed;
    /* A design weight per city: sampling rates differ between cities. */
    double cityw[31][12];
    for (int p = 0; p < 31; p++)
        for (int c = 0; c < 12; c++)
            cityw[p][c] = exp(0.5 * gauss());
    double scale = REAL_POP / (double)n;
    static const char *jobs[] = {"courier", "ride-hailing driver", "online shop", "construction", "domestic"};
    printf("id,province,city,gender,category,age,wt,income,job\n");
    for (long long i = 1; i <= n; i++) {
        int p = (int)(next() % 31), c = (int)(next() % 12);
        int g = next() % 100 < 58 ? 1 : 2;
        int k = (int)(next() % 3) + 1;
        int age = 18 + (int)(next() % 45);
        /* design weight x a respondent's own factor (nonresponse, household) */
        double wt = scale * cityw[p][c] * exp(0.35 * gauss()) * (0.6 + 0.04 * p);
        char inc[24] = "";
        if (next() % 100 >= 7)
            snprintf(inc, sizeof inc, "%ld", 1500 + (long)(next() % 20000));
        const char *job = next() % 100 < 4 ? "" : jobs[next() % 5];
        printf("%lld,%d,%d%02d,%d,%d,%d,%.6f,%s,%s\n", i, 11 + p, 11 + p, c + 1, g, k, age, wt, inc, job);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen-weight ROWS [SEED] | gen-weight margins DIR\n");
        return 2;
    }
    if (strcmp(argv[1], "margins") == 0 && argc == 3) {
        /* 55 million people: region r holds r million; gender x age cell k
         * holds k/55 of them; 40% rural. */
        FILE *f = open_in(argv[2], "region.csv");
        fprintf(f, "region,total\n");
        for (int r = 1; r <= 10; r++)
            fprintf(f, "R%02d,%d\n", r, r * 1000000);
        fclose(f);
        f = open_in(argv[2], "gender_age.csv");
        fprintf(f, "gender,agegrp,total\n");
        for (int k = 1; k <= 10; k++)
            fprintf(f, "%d,%d,%d\n", (k - 1) / 5 + 1, (k - 1) % 5 + 1, k * 1000000);
        fclose(f);
        f = open_in(argv[2], "urban.csv");
        fprintf(f, "urban,total\n0,22000000\n1,33000000\n");
        fclose(f);
        return 0;
    }
    if (strcmp(argv[1], "real-margins") == 0 && argc == 3)
        return real_margins(argv[2]);
    if (strcmp(argv[1], "real") == 0 && argc >= 3)
        return real(atoll(argv[2]), argc > 3 ? strtoull(argv[3], NULL, 10) : 42);
    long long n = atoll(argv[1]);
    s = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
    static const char *jobs[] = {"courier", "ride-hailing driver", "online shop", "construction", "domestic"};
    /* Regions are sampled equally, so small regions carry small weights. */
    printf("id,region,gender,agegrp,urban,wt,income,job\n");
    for (long long i = 1; i <= n; i++) {
        int r = (int)(next() % 10) + 1;
        int g = (int)(next() % 2) + 1;
        int a = (int)(next() % 5) + 1;
        int u = next() % 100 < 55;
        double wt = 55000000.0 / (double)n * r / 5.5;
        long income = 1500 + (long)(next() % 20000);
        printf("%lld,R%02d,%d,%d,%d,%.4f,%ld,%s\n", i, r, g, a, u, wt, income, jobs[next() % 5]);
    }
    return 0;
}
