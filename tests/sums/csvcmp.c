/* csvcmp A B: two CSV files equal field by field, numbers to 1e-12
 * relative (svy-tab --from-sums against the rows, tests/sums).  Exit 0
 * when equal, 1 naming the first difference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next field of f into buf (unquoted); *eol set at the end of a line.
 * 0 at the end of the file. */
static int field(FILE *f, char *buf, size_t cap, int *eol)
{
    size_t n = 0;
    int c = getc(f), q = 0;
    if (c == EOF)
        return 0;
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
        if (n + 1 < cap && c != '\r')
            buf[n++] = (char)c;
    }
    buf[n] = 0;
    *eol = c != ',';
    return 1;
}

static int number(const char *s, double *x)
{
    char *end;
    if (!*s)
        return 0;
    *x = strtod(s, &end);
    return *end == 0;
}

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
    static char fa[1 << 16], fb[1 << 16];
    long line = 1, col = 1;
    for (;;) {
        int ea = 0, eb = 0, ra = field(a, fa, sizeof fa, &ea), rb = field(b, fb, sizeof fb, &eb);
        if (!ra || !rb) {
            if (ra != rb) {
                fprintf(stderr, "csvcmp: %s ends first (line %ld)\n", ra ? argv[2] : argv[1], line);
                return 1;
            }
            return 0;
        }
        double x, y;
        int same = strcmp(fa, fb) == 0;
        if (!same && number(fa, &x) && number(fb, &y))
            same = fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y)) || (fabs(x) < 1e-300 && fabs(y) < 1e-300);
        if (!same || ea != eb) {
            fprintf(stderr, "csvcmp: line %ld field %ld: '%s' (%s) vs '%s' (%s)\n", line, col, fa, argv[1], fb,
                    argv[2]);
            return 1;
        }
        col = ea ? 1 : col + 1;
        line += ea;
    }
}
