/* csvcmp A B: two CSV files equal field by field, numbers to 1e-12
 * relative (svy-tab --from-sums against the rows, tests/sums).  Sums
 * added in another order change the last digits of each estimate, so two
 * results that cancel carry those digits up: a number is compared to
 * 1e-12 of the largest of itself and its row's interval (ci_low, ci_high;
 * a difference of 0.0016 between two rates of 0.5 has an interval near
 * 0.05), and p_value to 1e-9 of itself (a p of 1e-60 moves by t^2 times
 * the relative change of t).  Exit 0 when equal, 1 naming the first
 * difference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXF = 256, MAXLEN = 1 << 14 };

typedef struct line {
    int n;
    char f[MAXF][MAXLEN];
} line;

/* The next line of f (fields unquoted); 0 at the end of the file. */
static int read_line(FILE *f, line *L)
{
    int c = getc(f);
    if (c == EOF)
        return 0;
    L->n = 0;
    for (;;) {
        size_t n = 0;
        int q = 0;
        char *buf = L->f[L->n < MAXF ? L->n : MAXF - 1];
        if (c == '"') {
            q = 1;
            c = getc(f);
        }
        for (;; c = getc(f)) {
            if (c == EOF)
                break;
            if (q && c == '"') {
                c = getc(f);
                if (c != '"') {
                    q = 0;
                    if (c == EOF)
                        break;
                }
            }
            if (!q && (c == ',' || c == '\n'))
                break;
            if (n + 1 < MAXLEN && c != '\r')
                buf[n++] = (char)c;
        }
        buf[n] = 0;
        if (L->n < MAXF)
            L->n++;
        if (c != ',')
            return 1;
        c = getc(f);
    }
}

static int number(const char *s, double *x)
{
    char *end;
    if (!*s)
        return 0;
    *x = strtod(s, &end);
    return *end == 0;
}

static line la, lb, head;

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: csvcmp A B\n");
        return 2;
    }
    FILE *a = fopen(argv[1], "r"), *b = fopen(argv[2], "r");
    if (!a || !b) {
        fprintf(stderr, "csvcmp: cannot open %s\n", a ? argv[2] : argv[1]);
        return 2;
    }
    int lo = -1, hi = -1, pv = -1;
    for (long ln = 1;; ln++) {
        int ra = read_line(a, &la), rb = read_line(b, &lb);
        if (!ra || !rb) {
            if (ra != rb)
                fprintf(stderr, "csvcmp: %s ends first (line %ld)\n", ra ? argv[2] : argv[1], ln);
            return ra != rb;
        }
        if (ln == 1) {
            head = la;
            for (int i = 0; i < la.n; i++) {
                lo = strcmp(la.f[i], "ci_low") == 0 ? i : lo;
                hi = strcmp(la.f[i], "ci_high") == 0 ? i : hi;
                pv = strcmp(la.f[i], "p_value") == 0 ? i : pv;
            }
        }
        double scale = 0, x, y;
        if (lo >= 0 && lo < la.n && number(la.f[lo], &x))
            scale = fabs(x);
        if (hi >= 0 && hi < la.n && number(la.f[hi], &x))
            scale = fmax(scale, fabs(x));
        for (int i = 0; i < la.n || i < lb.n; i++) {
            int same = i < la.n && i < lb.n && strcmp(la.f[i], lb.f[i]) == 0;
            if (!same && i < la.n && i < lb.n && number(la.f[i], &x) && number(lb.f[i], &y)) {
                double m = fmax(fabs(x), fabs(y));
                same = i == pv ? fabs(x - y) <= 1e-9 * m : fabs(x - y) <= 1e-12 * fmax(m, scale);
                same |= m < 1e-300;
            }
            if (!same) {
                fprintf(stderr, "csvcmp: line %ld field %d (%s): '%s' (%s) vs '%s' (%s)\n", ln, i + 1,
                        i < head.n ? head.f[i] : "?", i < la.n ? la.f[i] : "", argv[1], i < lb.n ? lb.f[i] : "",
                        argv[2]);
                return 1;
            }
        }
    }
}
