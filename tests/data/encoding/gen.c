/* Makes the files of this folder: Stata 114 and SPSS .sav files that
 * declare no text encoding, with text in GB18030 (Chinese) and in CP1252
 * (German), as old Stata and SPSS versions wrote them, and one in UTF-8.  Not built by meson:
 *   cc -o /tmp/gen gen.c -lreadstat && (cd tests/data/encoding && /tmp/gen)
 * ReadStat's .sav writer always declares UTF-8 (record 7.20) and character
 * code 65001 (record 7.3): both are rewritten afterwards to "no record" (an
 * unknown subtype, which readers skip) and code 2 (7-bit ASCII).
 */
#include <readstat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ssize_t put(const void *b, size_t n, void *ctx) { return (ssize_t)fwrite(b, 1, n, ctx); }

static void make(const char *path, readstat_error_t (*begin)(readstat_writer_t *, void *, long),
                 const char *label, const char *const *text, int n)
{
    FILE *f = fopen(path, "wb");
    readstat_writer_t *w = readstat_writer_init();
    readstat_set_data_writer(w, put);
    readstat_writer_set_file_label(w, label);
    if (begin == readstat_begin_writing_dta)
        readstat_writer_set_file_format_version(w, 114);
    readstat_label_set_t *ls = readstat_add_label_set(w, READSTAT_TYPE_INT32, "sexlbl");
    readstat_label_int32_value(ls, 1, text[n]);
    readstat_label_int32_value(ls, 2, text[n + 1]);
    readstat_variable_t *id = readstat_add_variable(w, "id", READSTAT_TYPE_INT32, 0);
    readstat_variable_t *sex = readstat_add_variable(w, "sex", READSTAT_TYPE_INT32, 0);
    readstat_variable_set_label_set(sex, ls);
    readstat_variable_t *city = readstat_add_variable(w, "city", READSTAT_TYPE_STRING, 16);
    readstat_variable_set_label(city, text[n + 2]);
    begin(w, f, n);
    for (int i = 0; i < n; i++) {
        readstat_begin_row(w);
        readstat_insert_int32_value(w, id, i + 1);
        readstat_insert_int32_value(w, sex, 1 + i % 2);
        readstat_insert_string_value(w, city, text[i]);
        readstat_end_row(w);
    }
    readstat_end_writing(w);
    readstat_writer_free(w);
    fclose(f);
}

/* Rewrite the .sav's encoding records so that it declares none. */
static void undeclare(const char *path)
{
    FILE *f = fopen(path, "r+b");
    static unsigned char b[1 << 16];
    size_t n = fread(b, 1, sizeof b, f);
    for (size_t i = 0; i + 16 < n; i += 4) {
        int rec, sub, size, count;
        memcpy(&rec, b + i, 4), memcpy(&sub, b + i + 4, 4), memcpy(&size, b + i + 8, 4), memcpy(&count, b + i + 12, 4);
        if (rec == 7 && sub == 20 && size == 1) {
            int unknown = 99;
            memcpy(b + i + 4, &unknown, 4);
        }
        if (rec == 7 && sub == 3 && size == 4 && count == 8) {
            int code = 2;
            memcpy(b + i + 16 + 7 * 4, &code, 4);
        }
    }
    fseek(f, 0, SEEK_SET);
    fwrite(b, 1, n, f);
    fclose(f);
}

int main(void)
{
    /* 杭州 上海 北京; 男 女; 城市 (GB18030) */
    static const char *const gb[] = {"\xba\xbc\xd6\xdd", "\xc9\xcf\xba\xa3", "\xb1\xb1\xbe\xa9",
                                     "\xc4\xd0", "\xc5\xae", "\xb3\xc7\xca\xd0"};
    /* München Köln Düsseldorf; männlich weiblich; Stadt (CP1252) */
    static const char *const de[] = {"M\xfcnchen", "K\xf6ln", "D\xfcsseldorf", "m\xe4nnlich", "weiblich", "Stadt"};
    make("gb18030-114.dta", readstat_begin_writing_dta, "\xb5\xf7\xb2\xe9", gb, 3);
    make("gb18030-undeclared.sav", readstat_begin_writing_sav, "\xb5\xf7\xb2\xe9", gb, 3);
    undeclare("gb18030-undeclared.sav");
    make("cp1252-114.dta", readstat_begin_writing_dta, "Umfrage", de, 3);
    /* UTF-8 text in a file that declares nothing: read as it is */
    static const char *const u8[] = {"杭州", "上海", "北京", "男", "女", "城市"};
    make("utf8-114.dta", readstat_begin_writing_dta, "调查", u8, 3);
    return 0;
}
