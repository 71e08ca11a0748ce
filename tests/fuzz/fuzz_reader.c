/* Format detection, then the whole file through svy_reader by path: every
 * backend the build has (CSV/TSV, and ReadStat's formats once merged). */
#define _GNU_SOURCE
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *fmt = svy_detect_format(data, size);
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    svy_reader *r = svy_reader_new();
    svy_err err;
    svy_err_clear(&err);
    fuzz_sink sink = {0};
    svy_handler h = {fuzz_on_schema, fuzz_on_row};
    svy_status st = svy_reader_open(r, path, &err);
    if (st == SVY_OK) {
        /* Detection on the first 64 KiB agrees with detection on the whole. */
        FUZZ_ASSERT(size > 65536 || (fmt && strcmp(fmt, svy_reader_format(r)) == 0));
        st = svy_reader_run(r, &h, &sink, &err);
        FUZZ_ASSERT(st != SVY_OK || svy_reader_rows(r) == sink.rows);
    }
    fuzz_check_error(st, &err);
    svy_reader_free(r);
    close(fd);
    return 0;
}
