/* Synthetic survey for bench/tab.sh: 31 strata (province), 1,240 PSUs (40 per
 * stratum), three worker categories x two genders, weights and six 0/1
 * outcomes y1..y6.  Rows come grouped by PSU, as survey files usually are.
 * Usage: gen-tab ROWS [SEED] > file.csv   (deterministic for a seed) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
    const int H = 31, PER = 40, NPSU = H * PER;
    printf("province,psu,weight,category,gender,y1,y2,y3,y4,y5,y6\n");
    long long done = 0;
    for (int p = 0; p < NPSU; p++) {
        long long take = rows * (p + 1) / NPSU - done;
        int prov = p / PER + 1;
        double psu_effect = unif() * 0.3 - 0.15; /* clustering: PSUs differ */
        double base_w = 50 + 400 * unif();
        for (long long k = 0; k < take; k++) {
            int cat = 1 + (int)(unif() * 3);
            int gender = 1 + (unif() < 0.48);
            double w = base_w * (0.7 + 0.6 * unif());
            printf("%d,%d,%.2f,%d,%d", prov, p + 1, w, cat, gender);
            for (int j = 0; j < 6; j++) {
                double pr = 0.2 + 0.1 * j + 0.05 * cat - 0.03 * gender + psu_effect;
                printf(",%d", unif() < pr);
            }
            putchar('\n');
        }
        done += take;
    }
    return ferror(stdout) ? 1 : 0;
}
