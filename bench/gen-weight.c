/* Synthetic sample for bench/weight.sh: ten regions with a design weight each,
 * gender x five age groups, urban/rural, an income and a text column.  With
 * "margins DIR" it writes the three population margins raked to instead.
 * Usage: gen-weight ROWS [SEED] > file.csv | gen-weight margins DIR */
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
