/* nsfe-gen: write the synthetic NSFE-2021 sample study.
 *
 *   nsfe-gen OUTDIR
 *
 * writes OUTDIR/nsfe-2021-raw.{csv,dta,sav} and the margins folder OUTDIR/nsfe-2021-margins.
 * The output is a pure function of the constants below: the generator has its
 * own PRNG (xoshiro256** seeded by splitmix64) and uses only IEEE basic
 * arithmetic (no libm transcendental functions, whose last bit differs between
 * C libraries), so `make samples` reproduces the committed files byte for byte
 * on any conforming platform.  See samples/README.md for the population model
 * and for every kind of mess the raw file contains on purpose.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <survey/survey.h>

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng_s[4];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng_s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9;
    uint64_t t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

/* Uniform on [0, 1). */
static double unif(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }

static int bern(double p) { return unif() < p; }

static int pick(int n) { return (int)(unif() * n); }

/* Approximately standard normal (Irwin-Hall of 12 uniforms): additions only,
 * so it is bit-identical everywhere, and tails are bounded at +-6. */
static double gauss(void)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += unif();
    return s - 6.0;
}

/* Index drawn from cumulative-free probabilities p[0..n-1] (sum 1). */
static int draw(const double *p, int n)
{
    double u = unif(), c = 0;
    for (int i = 0; i < n - 1; i++) {
        c += p[i];
        if (u < c)
            return i;
    }
    return n - 1;
}

/* --------------------------------------------------- design and population */

typedef struct prov {
    int code;          /* GB/T 2260 province code: the stratum */
    const char *zh, *en;
    int npsu_pop;      /* prefecture-level cities in the province: the fpc */
    double workers;    /* population of workers in non-standard employment */
    double migrant;    /* share of migrants (hukou elsewhere) */
    double platform;   /* share of platform workers */
    double effect;     /* provincial shift in the participation propensity */
    const char *spell[7];
} prov;

static const prov provs[] = {
    {33, "浙江", "Zhejiang", 11, 1260000, 0.62, 0.72, 0.35,
     {"浙江", "浙江省", "Zhejiang", "zhejiang prov.", "ZJ", "ZHEJIANG", " 浙江省 "}},
    {44, "广东", "Guangdong", 21, 2350000, 0.71, 0.74, 0.25,
     {"广东", "广东省", "廣東", "Guangdong", "guangdong province", "GD", "Kwangtung"}},
    {51, "四川", "Sichuan", 21, 1080000, 0.24, 0.66, -0.30,
     {"四川", "四川省", "Sichuan", "SC", "sichuan prov.", "Szechwan", "四川 "}},
    {41, "河南", "Henan", 17, 990000, 0.19, 0.65, -0.35,
     {"河南", "河南省", "Henan", "HA", "henan province", "HENAN", "河南省"}},
};
enum { NPROV = 4 };

typedef struct city {
    int prov;          /* index into provs */
    int code;          /* GB/T 2260 city code: the PSU */
    const char *zh, *en;
    int m;             /* respondents interviewed */
    const char *spell[5];
    int workers;       /* workers in non-standard employment in the city: the stage-2 fpc */
} city;

static const city cities[] = {
    {0, 330100, "杭州", "Hangzhou", 310, {"杭州", "杭州市", "Hangzhou", "hangzhou city", "HANGZHOU"}, 420000},
    {0, 330200, "宁波", "Ningbo", 230, {"宁波", "宁波市", "寧波", "Ningbo", "ningbo"}, 300000},
    {0, 330300, "温州", "Wenzhou", 180, {"温州", "温州市", "溫州", "Wenzhou", "wenzhou city"}, 220000},
    {0, 330700, "金华", "Jinhua", 120, {"金华", "金华市", "金華", "Jinhua", "JINHUA"}, 160000},
    {1, 440100, "广州", "Guangzhou", 330, {"广州", "广州市", "廣州", "Guangzhou", "Canton"}, 640000},
    {1, 440300, "深圳", "Shenzhen", 300, {"深圳", "深圳市", "Shenzhen", "shen zhen", "SHENZHEN"}, 700000},
    {1, 441900, "东莞", "Dongguan", 190, {"东莞", "东莞市", "東莞", "Dongguan", "dongguan city"}, 380000},
    {1, 440600, "佛山", "Foshan", 150, {"佛山", "佛山市", "Foshan", "foshan", "FOSHAN"}, 300000},
    {2, 510100, "成都", "Chengdu", 360, {"成都", "成都市", "Chengdu", "chengdu city", "CHENGDU"}, 520000},
    {2, 510700, "绵阳", "Mianyang", 160, {"绵阳", "绵阳市", "綿陽", "Mianyang", "mianyang"}, 130000},
    {2, 511300, "南充", "Nanchong", 140, {"南充", "南充市", "Nanchong", "nanchong city", "NANCHONG"}, 110000},
    {3, 410100, "郑州", "Zhengzhou", 340, {"郑州", "郑州市", "鄭州", "Zhengzhou", "zhengzhou city"}, 430000},
    {3, 410300, "洛阳", "Luoyang", 180, {"洛阳", "洛阳市", "洛陽", "Luoyang", "LUOYANG"}, 160000},
    {3, 411300, "南阳", "Nanyang", 155, {"南阳", "南阳市", "南陽", "Nanyang", "nanyang"}, 140000},
};
enum { NCITY = sizeof cities / sizeof *cities, NRESP = 3145 };

/* Jobs: 0-4 platform work, 5 non-platform flexible work.  Shares are of all
 * workers before the provincial platform share rescales them. */
static const double job_share[6] = {0.30, 0.18, 0.12, 0.05, 0.05, 0.30};
static const double job_female[6] = {0.09, 0.05, 0.14, 0.88, 0.48, 0.45};
static const char *const job_spell[6][6] = {
    {"外卖骑手", "外卖员", "food delivery", "Food-delivery rider", "美团骑手", "送外卖"},
    {"网约车司机", "ride-hailing driver", "滴滴司机", "Ride hailing", "网约车", "online car-hailing"},
    {"快递员", "courier", "快递小哥", "Courier", "快递", "express delivery"},
    {"家政服务员", "domestic service", "家政", "Domestic worker", "保洁(平台)", "housekeeping (app)"},
    {"网络自由职业", "online freelancer", "自由职业(网络)", "Online Freelance", "网络主播", "freelance (online)"},
    {"灵活就业", "flexible worker", "个体", "零工", "Odd jobs", "临时工"},
};

/* Targets the weighted estimates hit (CALSS, see samples/README.md). */
#define T_PENSION_EMP 0.254
#define T_PENSION_RES 0.360
#define T_MEDICAL_EMP 0.221
#define T_MEDICAL_RES 0.315
#define T_INJURY 0.173
#define T_UNEMPLOYMENT 0.098
#define T_MATERNITY 0.076
#define T_COMMERCIAL 0.203
#define T_BURDEN_HEAVY 0.432
#define T_MIGHT_STOP 0.144

enum { Y_PE, Y_PR, Y_ME, Y_MR, Y_WI, Y_UE, Y_MA, NSCHEME };

typedef struct person {
    int id, city, prov;
    double weight;
    int job, female, age, edu, hukou, labour, hours;
    double income;
    int scheme[NSCHEME]; /* 1 yes, 2 no, 3 don't know, -9 refused */
    int ever, where, comm, burden, stop;
    int reason[5];
} person;

static person P[NRESP];
static double W_total;

/* ----------------------------------------------------------- calibration */

typedef struct scored {
    double z;
    int i;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->z != y->z)
        return x->z > y->z ? -1 : 1;
    return x->i - y->i; /* total order: qsort's instability cannot show */
}

/* Among the persons with elig[i], give the `yes` code to the highest scores
 * until their weighted share is as close to target as it can be, and `no` to
 * the rest.  Scores carry the covariate effects (the gaps between groups);
 * the cut makes the weighted estimate hit the published figure exactly. */
static void calibrate(const int *elig, const double *z, double target, int *out, size_t stride,
                      int yes, int no)
{
    static scored s[NRESP];
    int n = 0;
    double wsum = 0;
    for (int i = 0; i < NRESP; i++)
        if (elig[i]) {
            s[n].z = z[i];
            s[n++].i = i;
            wsum += P[i].weight;
        }
    qsort(s, (size_t)n, sizeof *s, cmp_scored);
    double cum = 0;
    int k = 0;
    while (k < n && (cum + P[s[k].i].weight / 2) / wsum < target)
        cum += P[s[k++].i].weight;
    for (int j = 0; j < n; j++)
        *(int *)((char *)out + (size_t)s[j].i * stride) = j < k ? yes : no;
}

#define FIELD_OUT(f) ((int *)((char *)P + offsetof(person, f))), sizeof(person)

/* --------------------------------------------------------- the population */

static double approx_exp(double x)
{
    /* (1 + x/64)^64: basic operations only; accurate enough for incomes. */
    double y = 1 + x / 64;
    if (y < 0)
        y = 0;
    for (int i = 0; i < 6; i++)
        y *= y;
    return y;
}

static void generate(void)
{
    static int elig[NRESP];
    static double z[NRESP];
    int n = 0;
    for (int c = 0; c < NCITY; c++) {
        const city *ct = &cities[c];
        const prov *pv = &provs[ct->prov];
        int npsu = 0;
        for (int k = 0; k < NCITY; k++)
            npsu += cities[k].prov == ct->prov;
        /* Cities drawn with probability proportional to size, workers by
         * simple random sampling within: 1/(pi1 pi2) = T_h / (n_h m_i). */
        double w = pv->workers / ((double)npsu * ct->m);
        for (int r = 0; r < ct->m; r++, n++) {
            person *p = &P[n];
            memset(p, 0, sizeof *p);
            p->id = 0; /* set after shuffling */
            p->city = c;
            p->prov = ct->prov;
            p->weight = w;
            double js[6];
            double plat = 0;
            for (int j = 0; j < 5; j++)
                plat += job_share[j];
            for (int j = 0; j < 5; j++)
                js[j] = job_share[j] / plat * pv->platform;
            js[5] = 1 - pv->platform;
            p->job = draw(js, 6);
            p->female = bern(job_female[p->job]);
            int a = (int)(33 + 8.5 * gauss() + 0.5);
            p->age = a < 18 ? 18 + pick(4) : a > 63 ? 63 - pick(5) : a;
            static const double edu_p[5] = {0.08, 0.37, 0.33, 0.15, 0.07};
            p->edu = draw(edu_p, 5) + 1;
            int migrant = bern(pv->migrant);
            int rural = bern(migrant ? 0.72 : 0.38);
            p->hukou = migrant ? (rural ? 4 : 3) : (rural ? 2 : 1);
            static const double lab_plat[3] = {0.12, 0.48, 0.40}, lab_flex[3] = {0.35, 0.25, 0.40};
            p->labour = draw(p->job < 5 ? lab_plat : lab_flex, 3) + 1;
            double med = p->job < 5 ? 6200 : 5100;
            med *= 1 + 0.06 * (p->edu - 2) - 0.12 * p->female;
            double inc = med * approx_exp(0.42 * gauss());
            p->income = inc < 1200 ? 1200 : (double)((long)(inc / 100 + 0.5) * 100);
            int h = (int)((p->job < 5 ? 57 : 46) + 10 * gauss() + 0.5);
            p->hours = h < 8 ? 8 : h > 98 ? 98 : h;
        }
    }

    W_total = 0;
    for (int i = 0; i < NRESP; i++)
        W_total += P[i].weight;

    /* Item non-response first, so the calibrated shares are among answers. */
    for (int i = 0; i < NRESP; i++)
        for (int s = 0; s < NSCHEME; s++) {
            double u = unif();
            P[i].scheme[s] = u < 0.012 ? -9 : u < 0.045 ? 3 : 0;
        }

    /* The propensity to be covered: contracts, local hukou, non-platform
     * work, men, richer provinces; noise keeps groups overlapping. */
    double base[NRESP];
    for (int i = 0; i < NRESP; i++) {
        person *p = &P[i];
        base[i] = 0.9 * (p->labour == 1) - 0.3 * (p->labour == 3) - 0.55 * (p->job < 5) -
                  0.6 * p->female + provs[p->prov].effect - 0.45 * (p->hukou >= 3) + 0.12 * (p->edu - 2) +
                  0.015 * (p->age - 33);
    }
#define SCHEME_ELIG(s)                                    \
    for (int i = 0; i < NRESP; i++)                      \
        elig[i] = P[i].scheme[s] == 0;
#define SET_SCHEME(s, target)                                                          \
    do {                                                                               \
        static int tmp[NRESP];                                                         \
        calibrate(elig, z, target, tmp, sizeof *tmp, 1, 2);                            \
        for (int i = 0; i < NRESP; i++)                                                \
            if (elig[i])                                                               \
                P[i].scheme[s] = tmp[i];                                               \
    } while (0)

    /* Employee pension. */
    SCHEME_ELIG(Y_PE);
    for (int i = 0; i < NRESP; i++)
        z[i] = base[i] + 0.8 * gauss();
    SET_SCHEME(Y_PE, T_PENSION_EMP);
    /* Resident pension: not for those in the employee scheme; migrants join
     * it at their place of hukou. */
    SCHEME_ELIG(Y_PR);
    for (int i = 0; i < NRESP; i++)
        z[i] = P[i].scheme[Y_PE] == 1 ? -100 + i * 1e-6
                                     : 0.5 * (P[i].hukou == 2 || P[i].hukou == 4) + 0.25 * (P[i].hukou >= 3) +
                                           0.02 * (P[i].age - 33) + 0.9 * gauss();
    SET_SCHEME(Y_PR, T_PENSION_RES);
    SCHEME_ELIG(Y_ME);
    for (int i = 0; i < NRESP; i++)
        z[i] = base[i] + 2.2 * (P[i].scheme[Y_PE] == 1) + 0.6 * gauss();
    SET_SCHEME(Y_ME, T_MEDICAL_EMP);
    SCHEME_ELIG(Y_MR);
    for (int i = 0; i < NRESP; i++)
        z[i] = P[i].scheme[Y_ME] == 1 ? -100 + i * 1e-6 : 1.4 * (P[i].scheme[Y_PR] == 1) + 0.9 * gauss();
    SET_SCHEME(Y_MR, T_MEDICAL_RES);
    SCHEME_ELIG(Y_WI);
    for (int i = 0; i < NRESP; i++)
        z[i] = base[i] + 0.7 * (P[i].labour == 2) + 0.5 * (P[i].job <= 2) + 0.9 * (P[i].scheme[Y_PE] == 1) +
               0.8 * gauss();
    SET_SCHEME(Y_WI, T_INJURY);
    SCHEME_ELIG(Y_UE);
    for (int i = 0; i < NRESP; i++)
        z[i] = base[i] + 2.0 * (P[i].scheme[Y_PE] == 1) + 0.6 * gauss();
    SET_SCHEME(Y_UE, T_UNEMPLOYMENT);
    SCHEME_ELIG(Y_MA);
    for (int i = 0; i < NRESP; i++)
        z[i] = base[i] + 2.0 * (P[i].scheme[Y_ME] == 1) + 0.6 * gauss();
    SET_SCHEME(Y_MA, T_MATERNITY);

    int insured[NRESP];
    for (int i = 0; i < NRESP; i++) {
        person *p = &P[i];
        insured[i] = 0;
        for (int s = 0; s < NSCHEME; s++)
            insured[i] |= p->scheme[s] == 1;
        p->ever = insured[i] ? 1 : (bern(0.22) ? 1 : 2);
        if (!insured[i])
            p->where = 99;
        else if (p->hukou >= 3)
            p->where = bern(p->scheme[Y_PR] == 1 || p->scheme[Y_MR] == 1 ? 0.82 : 0.35) ? 1 : 2;
        else
            p->where = bern(0.3) ? 1 : 2;
    }

    /* Commercial insurance: platforms buy accident cover for riders. */
    for (int i = 0; i < NRESP; i++) {
        elig[i] = !bern(0.02);
        if (!elig[i])
            P[i].comm = -8;
        z[i] = 0.5 * (P[i].job <= 2) + 0.2 * (P[i].edu - 2) + 0.3 * insured[i] + 0.9 * gauss();
    }
    {
        static int any[NRESP];
        calibrate(elig, z, T_COMMERCIAL, any, sizeof *any, 1, 0);
        for (int i = 0; i < NRESP; i++)
            if (elig[i]) {
                if (!any[i])
                    P[i].comm = 1;
                else if (P[i].job <= 2)
                    P[i].comm = bern(0.55) ? 3 : bern(0.6) ? 2 : 4;
                else
                    P[i].comm = bern(0.2) ? 3 : bern(0.85) ? 2 : 4;
            }
    }

    /* Burden and might-stop: asked of the insured only (99 otherwise). */
    for (int i = 0; i < NRESP; i++) {
        elig[i] = insured[i] && !bern(0.025);
        P[i].burden = !insured[i] ? 99 : elig[i] ? 0 : -8;
        z[i] = -0.00012 * P[i].income + 0.4 * (P[i].job < 5) + 0.3 * (P[i].scheme[Y_PE] == 1) + 0.8 * gauss();
    }
    {
        static int heavy[NRESP];
        calibrate(elig, z, T_BURDEN_HEAVY, heavy, sizeof *heavy, 1, 0);
        static const double light_p[3] = {0.14, 0.33, 0.53};
        for (int i = 0; i < NRESP; i++)
            if (elig[i])
                P[i].burden = heavy[i] ? (bern(0.38) ? 5 : 4) : draw(light_p, 3) + 1;
    }
    for (int i = 0; i < NRESP; i++) {
        double u = unif();
        elig[i] = insured[i] && u >= 0.04;
        P[i].stop = !insured[i] ? 99 : elig[i] ? 0 : (u < 0.01 ? -9 : 3);
        z[i] = 1.3 * (P[i].burden >= 4 && P[i].burden <= 5) - 0.00008 * P[i].income + 0.3 * (P[i].hukou >= 3) +
               0.7 * gauss();
    }
    calibrate(elig, z, T_MIGHT_STOP, FIELD_OUT(stop), 1, 2);

    /* Reasons for not joining the employee pension (multiple response). */
    for (int i = 0; i < NRESP; i++) {
        person *p = &P[i];
        if (p->scheme[Y_PE] == 1) {
            for (int k = 0; k < 5; k++)
                p->reason[k] = 99;
            continue;
        }
        p->reason[0] = bern(0.36 - 0.04 * (p->edu - 2));
        p->reason[1] = bern(0.22);
        p->reason[2] = bern(p->hukou >= 3 ? 0.38 : 0.09);
        p->reason[3] = bern(0.30 + 0.10 * (p->income < 4500));
        p->reason[4] = bern(0.11);
    }
}

/* ------------------------------------------------------------ the raw file */

enum {
    V_ID, V_PROV, V_CITY, V_WT, V_NPSU, V_NWORK, V_GENDER, V_AGE, V_EDU, V_HUKOU, V_JOB, V_LABOUR, V_INCOME, V_HOURS,
    V_B1, /* 7 schemes */
    V_B2 = V_B1 + NSCHEME, V_B3, V_B4, V_B5, V_B6, V_B7, /* 5 reasons */
    NV = V_B7 + 5
};

typedef struct rawcol {
    const char *name, *label;
    svy_var_type type;
    const char *labelset;
} rawcol;

static const rawcol rawcols[NV] = {
    {"id", "Respondent ID 受访者编号", SVY_VAR_NUMERIC, NULL},
    {"prov", "省份 Province", SVY_VAR_STRING, NULL},
    {"city", "城市/区 City or district", SVY_VAR_STRING, NULL},
    {"wt_design", "Design weight (1/pi)", SVY_VAR_NUMERIC, NULL},
    {"n_psu_prov", "Cities in province (population PSUs)", SVY_VAR_NUMERIC, NULL},
    {"n_workers_city", "Workers in the city (population, second stage)", SVY_VAR_NUMERIC, NULL},
    {"A1_gender", "A1 性别", SVY_VAR_STRING, NULL},
    {"A2_age", "A2 年龄 Age", SVY_VAR_STRING, NULL},
    {"A3_edu", "A3 受教育程度", SVY_VAR_NUMERIC, "edu"},
    {"A4_hukou", "A4 Hukou type", SVY_VAR_NUMERIC, "hukou"},
    {"A5_job", "A5 主要工作 Main job (open answer)", SVY_VAR_STRING, NULL},
    {"A6_labour", "A6 劳动关系 Labour relation", SVY_VAR_NUMERIC, "labour"},
    {"A7_income", "A7 月收入 Monthly income", SVY_VAR_STRING, NULL},
    {"A8_hours", "A8 Weekly working hours", SVY_VAR_NUMERIC, NULL},
    {"B1_1", "B1.1 城镇职工基本养老保险", SVY_VAR_NUMERIC, "yn3"},
    {"B1_2", "B1.2 城乡居民基本养老保险", SVY_VAR_NUMERIC, "yn3"},
    {"B1_3", "B1.3 职工基本医疗保险", SVY_VAR_NUMERIC, "yn3"},
    {"B1_4", "B1.4 城乡居民基本医疗保险", SVY_VAR_NUMERIC, "yn3"},
    {"B1_5", "B1.5 工伤保险", SVY_VAR_NUMERIC, "yn3"},
    {"B1_6", "B1.6 失业保险", SVY_VAR_NUMERIC, "yn3"},
    {"B1_7", "B1.7 生育保险", SVY_VAR_NUMERIC, "yn3"},
    {"B2_ever", "B2 Ever insured", SVY_VAR_NUMERIC, "ever"},
    {"B3_where", "B3 参保地 Where insured", SVY_VAR_NUMERIC, "where"},
    {"B4_comm", "B4 商业保险 Commercial insurance", SVY_VAR_NUMERIC, "comm"},
    {"B5_burden", "B5 Contribution burden (1 very light - 5 very heavy)", SVY_VAR_NUMERIC, "burden"},
    {"B6_stop", "B6 可能停缴 Might stop paying", SVY_VAR_NUMERIC, "yn3"},
    {"B7_1", "B7.1 不了解政策", SVY_VAR_NUMERIC, "sel"},
    {"B7_2", "B7.2 手续复杂", SVY_VAR_NUMERIC, "sel"},
    {"B7_3", "B7.3 不能跨地区转移", SVY_VAR_NUMERIC, "sel"},
    {"B7_4", "B7.4 缴不起", SVY_VAR_NUMERIC, "sel"},
    {"B7_5", "B7.5 不感兴趣", SVY_VAR_NUMERIC, "sel"},
};

typedef struct lab {
    const char *set;
    double code;
    const char *text;
} lab;

/* Value labels as the fieldwork firm delivered them: some Chinese, some
 * English, some both. */
static const lab rawlabs[] = {
    {"edu", 1, "小学及以下"}, {"edu", 2, "初中"}, {"edu", 3, "高中/中专"}, {"edu", 4, "大专"},
    {"edu", 5, "本科及以上"}, {"edu", -9, "拒答"},
    {"hukou", 1, "Local urban"}, {"hukou", 2, "Local rural"}, {"hukou", 3, "Migrant urban"},
    {"hukou", 4, "Migrant rural"}, {"hukou", -9, "Refused"}, {"hukou", -8, "Don't know"},
    {"labour", 1, "签订劳动合同 Labour contract"},
    {"labour", 2, "不完全劳动关系 Not fully a labour relation (managed by enterprise)"},
    {"labour", 3, "民事关系 Civil-law relation"}, {"labour", -9, "拒答 Refused"},
    {"yn3", 1, "是"}, {"yn3", 2, "否"}, {"yn3", 3, "不知道"}, {"yn3", -9, "拒答"}, {"yn3", 99, "不适用"},
    {"ever", 1, "Yes"}, {"ever", 2, "Never insured"}, {"ever", -9, "Refused"},
    {"where", 1, "户籍地 Place of hukou"}, {"where", 2, "工作地 Place of work"}, {"where", 99, "不适用 N/A"},
    {"comm", 1, "None"}, {"comm", 2, "Bought by self"}, {"comm", 3, "Bought by platform"},
    {"comm", 4, "Both"}, {"comm", -8, "Don't know"},
    {"burden", 1, "很轻"}, {"burden", 2, "较轻"}, {"burden", 3, "一般"}, {"burden", 4, "较重"},
    {"burden", 5, "很重"}, {"burden", -8, "不知道"}, {"burden", 99, "不适用"},
    {"sel", 0, "Not selected"}, {"sel", 1, "Selected"}, {"sel", 99, "N/A"},
};

/* One output cell as text (string columns) or number. */
typedef struct cell {
    int is_num, missing;
    double num;
    char str[64];
} cell;

static void set_num(cell *c, double d) { c->is_num = 1, c->missing = 0, c->num = d; }
static void set_str(cell *c, const char *s)
{
    c->is_num = 0, c->missing = 0;
    snprintf(c->str, sizeof c->str, "%s", s);
}
static void set_missing(cell *c) { c->missing = 1, c->is_num = 0, c->str[0] = 0; }

static void render_gender(cell *c, const person *p)
{
    static const char *const m[] = {"男", "男", "男", "M", "male", "1", "Male", "男性"};
    static const char *const f[] = {"女", "女", "女", "F", "female", "2", "FEMALE", "女性"};
    double u = unif();
    if (u < 0.004)
        set_str(c, "-9");
    else if (u < 0.007)
        set_missing(c);
    else
        set_str(c, (p->female ? f : m)[pick(8)]);
}

static void render_age(cell *c, int age)
{
    char buf[32];
    switch (pick(10)) {
    case 0: case 1: snprintf(buf, sizeof buf, "%d岁", age); break;
    case 2: snprintf(buf, sizeof buf, "%d years", age); break;
    case 3: snprintf(buf, sizeof buf, "%d周岁", age); break;
    case 4: snprintf(buf, sizeof buf, " %d", age); break;
    default: snprintf(buf, sizeof buf, "%d", age); break;
    }
    set_str(c, buf);
}

static void render_income(cell *c, double inc)
{
    char buf[48];
    long y = (long)inc;
    double u = unif();
    if (u < 0.03) {
        set_str(c, "-9");
        return;
    }
    if (u < 0.05) {
        set_str(c, "-8");
        return;
    }
    switch (pick(12)) {
    case 0: case 1: snprintf(buf, sizeof buf, "%ld,%03ld元", y / 1000, y % 1000); break;
    case 2: /* round thousands: people say "6k" */
        if (y % 1000 == 0)
            snprintf(buf, sizeof buf, "%ldk", y / 1000);
        else
            snprintf(buf, sizeof buf, "%ld.%ldk", y / 1000, (y % 1000) / 100);
        break;
    case 3: snprintf(buf, sizeof buf, "%ld 元", y); break;
    case 4: snprintf(buf, sizeof buf, "¥%ld", y); break;
    case 5:
        if (y % 1000 == 0)
            snprintf(buf, sizeof buf, "%ld千", y / 1000);
        else
            snprintf(buf, sizeof buf, "%ld", y);
        break;
    case 6:
        if (y % 1000 == 0)
            snprintf(buf, sizeof buf, "%ld.%ld万", y / 10000, (y % 10000) / 1000);
        else
            snprintf(buf, sizeof buf, "RMB %ld", y);
        break;
    default: snprintf(buf, sizeof buf, "%ld", y); break;
    }
    /* "0.6万" is fine, but "1.0万" reads better as "1万" */
    char *dot0 = strstr(buf, ".0万");
    if (dot0)
        memmove(dot0, dot0 + 2, strlen(dot0 + 2) + 1);
    set_str(c, buf);
}

/* The mess that is not about spelling: kinds and counts, documented in
 * samples/README.md. */
enum { N_DUP = 12, N_BADAGE = 14, N_BADHOURS = 6, N_INCONSISTENT = 18 };

static void render(cell *row, const person *p, int variant)
{
    const city *ct = &cities[p->city];
    const prov *pv = &provs[p->prov];
    set_num(&row[V_ID], p->id);
    set_str(&row[V_PROV], pv->spell[(pick(7) + variant) % 7]);
    set_str(&row[V_CITY], ct->spell[(pick(5) + variant) % 5]);
    set_num(&row[V_WT], p->weight);
    set_num(&row[V_NPSU], pv->npsu_pop);
    set_num(&row[V_NWORK], ct->workers);
    render_gender(&row[V_GENDER], p);
    render_age(&row[V_AGE], p->age);
    set_num(&row[V_EDU], bern(0.006) ? -9 : p->edu);
    {
        double u = unif();
        set_num(&row[V_HUKOU], u < 0.004 ? -9 : u < 0.008 ? -8 : p->hukou);
    }
    set_str(&row[V_JOB], job_spell[p->job][pick(6)]);
    set_num(&row[V_LABOUR], bern(0.008) ? -9 : p->labour);
    render_income(&row[V_INCOME], p->income);
    set_num(&row[V_HOURS], p->hours);
    for (int s = 0; s < NSCHEME; s++)
        set_num(&row[V_B1 + s], p->scheme[s]);
    set_num(&row[V_B2], p->ever);
    set_num(&row[V_B3], p->where);
    set_num(&row[V_B4], p->comm);
    set_num(&row[V_B5], p->burden);
    set_num(&row[V_B6], p->stop);
    for (int k = 0; k < 5; k++)
        set_num(&row[V_B7 + k], p->reason[k]);
}

/* ----------------------------------------------------------------- output */

static svy_schema *raw_schema(void)
{
    svy_err err;
    svy_schema *s = svy_schema_new();
    if (!s)
        return NULL;
    svy_schema_set_label(s, "NSFE-2021 raw survey data (synthetic) 非标准就业劳动者社会保险调查");
    for (int i = 0; i < NV; i++) {
        svy_var *v = svy_schema_add(s, rawcols[i].name, rawcols[i].type, &err);
        if (!v || svy_var_set_label(v, rawcols[i].label) != SVY_OK) {
            svy_schema_free(s);
            return NULL;
        }
        if (rawcols[i].type == SVY_VAR_STRING)
            svy_var_set_width(v, 48);
        if (rawcols[i].labelset) {
            svy_var_set_labelset_name(v, rawcols[i].labelset);
            for (size_t k = 0; k < sizeof rawlabs / sizeof *rawlabs; k++)
                if (!strcmp(rawlabs[k].set, rawcols[i].labelset))
                    svy_var_add_label_num(v, rawlabs[k].code, rawlabs[k].text);
        }
    }
    return s;
}

typedef struct emit_row {
    cell c[NV];
} emit_row;

static int write_raw(const char *dir, const emit_row *rows, int nrows, const svy_schema *schema)
{
    static const char *const ext[] = {"csv", "dta", "sav"};
    for (int f = 0; f < 3; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/nsfe-2021-raw.%s", dir, ext[f]);
        svy_err err;
        svy_err_clear(&err);
        svy_writer *w = svy_writer_new(svy_format_from_name(ext[f]));
        if (!w) {
            /* A libsurvey built without this format's writer. */
            fprintf(stderr, "nsfe-gen: no %s writer in this libsurvey: %s not written\n", ext[f], path);
            continue;
        }
        svy_writer_set_row_count(w, nrows);
        svy_writer_set_timestamp(w, 1640995200); /* 2022-01-01: same bytes on every run */
        svy_status st = svy_writer_open(w, path, schema, &err);
        svy_value vals[NV];
        for (int r = 0; st == SVY_OK && r < nrows; r++) {
            for (int i = 0; i < NV; i++) {
                const cell *c = &rows[r].c[i];
                memset(&vals[i], 0, sizeof vals[i]);
                if (c->missing) {
                    vals[i].type = rawcols[i].type == SVY_VAR_STRING ? SVY_VAL_STR : SVY_VAL_NUM;
                    vals[i].missing = SVY_MISS_SYSTEM;
                    vals[i].str = "";
                } else if (c->is_num) {
                    vals[i].type = SVY_VAL_NUM;
                    vals[i].num = c->num;
                } else {
                    vals[i].type = SVY_VAL_STR;
                    vals[i].str = c->str;
                    vals[i].len = strlen(c->str);
                }
            }
            svy_row row = {.index = r + 1, .nvals = NV, .vals = vals};
            st = svy_writer_write(w, &row, &err);
        }
        if (st == SVY_OK)
            st = svy_writer_close(w, &err);
        svy_writer_free(w);
        if (st != SVY_OK) {
            char buf[1200];
            fprintf(stderr, "nsfe-gen: %s\n", svy_err_format(&err, buf, sizeof buf));
            return 1;
        }
    }
    return 0;
}

static int write_text(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "nsfe-gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

/* Population control totals, from the model's expectations (what a census
 * would report), not from the sample: weighting moves the sample to them. */
static int write_margins(const char *dir)
{
    char d[4096], path[4200], buf[4096];
    snprintf(d, sizeof d, "%s/nsfe-2021-margins", dir);
    if (mkdir(d, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "nsfe-gen: %s: %s\n", d, strerror(errno));
        return 1;
    }
    long long plat_total = 0, grand = 0;
    size_t len = (size_t)snprintf(buf, sizeof buf, "province,gender,total\n");
    for (int h = 0; h < NPROV; h++) {
        const prov *pv = &provs[h];
        double plat = 0, female = 0;
        for (int j = 0; j < 5; j++)
            plat += job_share[j];
        for (int j = 0; j < 6; j++) {
            double share = j < 5 ? job_share[j] / plat * pv->platform : 1 - pv->platform;
            female += share * job_female[j];
        }
        long long f = (long long)(pv->workers * female + 0.5);
        long long m = (long long)pv->workers - f;
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,1,%lld\n%d,2,%lld\n", pv->code, m, pv->code, f);
        plat_total += (long long)(pv->workers * pv->platform + 0.5);
        grand += (long long)pv->workers;
    }
    snprintf(path, sizeof path, "%s/province_gender.csv", d);
    if (write_text(path, buf))
        return 1;
    snprintf(buf, sizeof buf, "category,total\n1,%lld\n2,%lld\n", plat_total, grand - plat_total);
    snprintf(path, sizeof path, "%s/category.csv", d);
    if (write_text(path, buf))
        return 1;
    len = (size_t)snprintf(buf, sizeof buf, "province,total\n");
    for (int h = 0; h < NPROV; h++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,%lld\n", provs[h].code, (long long)provs[h].workers);
    snprintf(path, sizeof path, "%s/province.csv", d);
    return write_text(path, buf);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: nsfe-gen OUTDIR\n");
        return 2;
    }
    const char *dir = argv[1];
    rng_seed(20210701u);
    generate();

    /* Respondent ids: interview order within city, numbered by province. */
    int seq[NPROV] = {0};
    for (int i = 0; i < NRESP; i++)
        P[i].id = provs[P[i].prov].code * 10000 + ++seq[P[i].prov];

    /* Emission order: respondents, with duplicates re-entered later by the
     * data-entry team (some retyped slightly differently). */
    static emit_row rows[NRESP + N_DUP];
    static int dup_of[NRESP];
    memset(dup_of, 0, sizeof dup_of);
    int dups[N_DUP];
    for (int k = 0; k < N_DUP; k++) {
        int i;
        do
            i = pick(NRESP - 40);
        while (dup_of[i]);
        dup_of[i] = 1;
        dups[k] = i;
    }
    int nrows = 0;
    for (int i = 0; i < NRESP; i++) {
        render(rows[nrows++].c, &P[i], 0);
        for (int k = 0; k < N_DUP; k++)
            if (dups[k] + 25 + k == i) {
                int src = dups[k];
                /* Exact copy for the first eight, a retyped one for the rest. */
                if (k < 8) {
                    rows[nrows] = rows[0]; /* placeholder, replaced below */
                    for (int r = 0; r < nrows; r++)
                        if (rows[r].c[V_ID].num == P[src].id) {
                            rows[nrows] = rows[r];
                            break;
                        }
                    nrows++;
                } else {
                    render(rows[nrows++].c, &P[src], 1 + k);
                }
            }
    }

    /* Out-of-range ages and hours, and answers that contradict each other. */
    static const char *const bad_age[] = {"7", "150", "0", "230岁", "15", "3 years", "120", "88岁",
                                          "1985", "200", "12", "9", "101", "-1"};
    for (int k = 0; k < N_BADAGE; k++)
        set_str(&rows[pick(nrows)].c[V_AGE], bad_age[k]);
    for (int k = 0; k < N_BADHOURS; k++)
        set_num(&rows[pick(nrows)].c[V_HOURS], k % 2 ? 0 : 168 + 4 * k);
    for (int k = 0; k < N_INCONSISTENT;) {
        emit_row *r = &rows[pick(nrows)];
        int insured = 0;
        for (int s = 0; s < NSCHEME; s++)
            insured |= r->c[V_B1 + s].num == 1;
        if (insured && r->c[V_B2].num == 1) {
            set_num(&r->c[V_B2], 2);
            k++;
        }
    }

    svy_schema *schema = raw_schema();
    if (!schema) {
        fprintf(stderr, "nsfe-gen: out of memory\n");
        return 3;
    }
    int rc = write_raw(dir, rows, nrows, schema);
    svy_schema_free(schema);
    if (!rc)
        rc = write_margins(dir);
    return rc ? 1 : 0;
}
