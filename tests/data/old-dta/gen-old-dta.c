/* Writes the small Stata files of this folder, one per old format version
 * (before 117 a .dta has no map: its value labels run to the end of the
 * file), through ReadStat's own writer:
 *   cc -o gen gen-old-dta.c -lreadstat && ./gen
 * Each file: 3 rows of id (byte, label set "yesno"), sex (byte, label set
 * "sexlbl", the last one in the file) and town (str6). */
#include <fcntl.h>
#include <readstat.h>
#include <stdio.h>
#include <unistd.h>

static ssize_t out(const void *bytes, size_t len, void *ctx)
{
    return write(*(int *)ctx, bytes, len);
}

int main(void)
{
    static const long versions[] = {104, 105, 108, 110, 111, 113, 114, 115};
    for (size_t v = 0; v < sizeof versions / sizeof *versions; v++) {
        char name[32];
        snprintf(name, sizeof name, "labels-%ld.dta", versions[v]);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        readstat_writer_t *w = readstat_writer_init();
        readstat_set_data_writer(w, out);
        readstat_writer_set_file_format_version(w, (uint8_t)versions[v]);
        readstat_label_set_t *yn = readstat_add_label_set(w, READSTAT_TYPE_INT8, "yesno");
        readstat_label_int32_value(yn, 0, "no");
        readstat_label_int32_value(yn, 1, "yes");
        readstat_label_set_t *sx = readstat_add_label_set(w, READSTAT_TYPE_INT8, "sexlbl");
        readstat_label_int32_value(sx, 1, "male");
        readstat_label_int32_value(sx, 2, "female");
        readstat_variable_t *id = readstat_add_variable(w, "id", READSTAT_TYPE_INT8, 0);
        readstat_variable_set_label_set(id, yn);
        readstat_variable_t *sex = readstat_add_variable(w, "sex", READSTAT_TYPE_INT8, 0);
        readstat_variable_set_label_set(sex, sx);
        readstat_variable_t *town = readstat_add_variable(w, "town", READSTAT_TYPE_STRING, 6);
        if (readstat_begin_writing_dta(w, &fd, 3) != READSTAT_OK)
            return 1;
        static const char *const towns[] = {"Lyon", "Koeln", "Turin"};
        for (int i = 0; i < 3; i++) {
            readstat_begin_row(w);
            readstat_insert_int8_value(w, id, (int8_t)(i % 2));
            readstat_insert_int8_value(w, sex, (int8_t)(1 + i % 2));
            readstat_insert_string_value(w, town, towns[i]);
            readstat_end_row(w);
        }
        readstat_end_writing(w);
        readstat_writer_free(w);
        close(fd);
    }
    return 0;
}
