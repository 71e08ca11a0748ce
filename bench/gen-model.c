/* Synthetic survey for bench/model.sh, shaped like the NSFE study's data:
 * 31 strata (province), 1,250 PSUs (city; PSU c in province c % 31), rows in
 * survey order (each row's PSU drawn at random, so rows are not grouped by
 * PSU), weights that vary within PSUs, four worker categories, gender 0/1,
 * age, four hukou types, income (lognormal, 3% missing), and a 0/1 outcome
 * from a logistic model with PSU effects.
 * Usage: gen-model ROWS [SEED] > file.csv   (deterministic for a seed) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t s;

static uint64_t next(void)
{
    uint64_t z = (s += 0x9e3779b97f4a7c15ull); /* splitmix64 */
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
        fprintf(stderr, "usage: gen-model ROWS [SEED]\n");
        return 2;
    }
    long long rows = atoll(argv[1]);
    s = argc > 2 ? strtoull(argv[2], NULL, 10) : 2021;
    enum { NPSU = 1250, H = 31 };
    static double effect[NPSU], basew[NPSU];
    for (int c = 0; c < NPSU; c++) {
        effect[c] = unif() * 0.8 - 0.4;
        basew[c] = 50 + 400 * unif();
    }
    printf("province,city,weight,category,gender,age,hukou,income,pension\n");
    for (long long i = 0; i < rows; i++) {
        int c = (int)(next() % NPSU), cat = 1 + (int)(next() % 4), g = (int)(next() % 2);
        int age = 18 + (int)(next() % 48), hk = 1 + (int)(next() % 4);
        double w = basew[c] * (0.7 + 0.6 * unif());
        double u1 = unif(), u2 = unif();
        double inc = exp(8.3 + 0.6 * sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2));
        double eta = -1.2 + 0.5 * (cat - 1) - 0.4 * g + 0.01 * (age - 40) - 0.2 * (hk - 1) + 0.00005 * inc + effect[c];
        int y = unif() < 1 / (1 + exp(-eta));
        if (unif() < 0.03)
            printf("%d,%d,%.4f,%d,%d,%d,%d,,%d\n", c % H + 1, c + 1, w, cat, g, age, hk, y);
        else
            printf("%d,%d,%.4f,%d,%d,%d,%d,%.0f,%d\n", c % H + 1, c + 1, w, cat, g, age, hk, inc, y);
    }
    return 0;
}
