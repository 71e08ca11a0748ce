#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <survey/error.h>

Test(error, format_names_file_row_column_and_variable)
{
    svy_err e;
    svy_err_clear(&e);
    svy_status st = svy_err_set(&e, SVY_E_DATA, "in.csv", 12, 3, "age", "'abc' is not a number");
    cr_assert_eq(st, SVY_E_DATA, "svy_err_set returns the code it records");
    char buf[256];
    svy_err_format(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "in.csv:12:3: 'abc' is not a number (variable age)");
}

Test(error, format_omits_parts_not_set)
{
    svy_err e;
    svy_err_clear(&e);
    svy_err_set(&e, SVY_E_IO, "out.dta", 0, 0, NULL, "cannot rename");
    char buf[256];
    cr_assert_str_eq(svy_err_format(&e, buf, sizeof buf), "out.dta: cannot rename");
    svy_err_set(&e, SVY_E_DATA, NULL, 4, 0, "w", "weight w is negative");
    cr_assert_str_eq(svy_err_format(&e, buf, sizeof buf), "row 4: weight w is negative",
                     "a variable already named in the message is not repeated");
}

Test(error, format_truncates_into_small_buffers)
{
    svy_err e;
    svy_err_set(&e, SVY_E_DATA, "a-rather-long-file-name.csv", 1, 1, NULL, "message");
    char buf[8];
    svy_err_format(&e, buf, sizeof buf);
    cr_assert_eq(strlen(buf), 7, "output must fit the buffer with its NUL");
}

Test(error, every_status_has_text)
{
    for (int s = 0; s < SVY_STATUS_COUNT_; s++)
        cr_assert(strlen(svy_status_str((svy_status)s)) > 0, "status %d has no text", s);
    cr_assert_str_eq(svy_status_str((svy_status)999), "unknown status");
}

Test(error, null_record_is_allowed)
{
    cr_assert_eq(svy_err_set(NULL, SVY_E_IO, NULL, 0, 0, NULL, "x"), SVY_E_IO);
}

Test(error, sys_records_errno_and_its_text)
{
    svy_err e;
    svy_err_clear(&e);
    svy_status st = svy_err_sys(&e, ENOSPC, "out.csv", 0, "write error");
    cr_assert_eq(st, SVY_E_IO);
    cr_assert_eq(e.sys_errno, ENOSPC);
    char want[256];
    snprintf(want, sizeof want, "write error: %s", strerror(ENOSPC));
    cr_assert_str_eq(e.msg, want);
    cr_assert_eq(svy_err_sys(&e, ENOMEM, NULL, 3, "cannot grow %s", "the spool"), SVY_E_NOMEM,
                 "ENOMEM is a memory error, not an I/O one");
    cr_assert_eq(e.row, 3);
    cr_assert_eq(svy_err_sys(&e, 0, NULL, 0, "short write"), SVY_E_IO);
    cr_assert_eq(e.sys_errno, EIO, "a failure without errno still records one");
    cr_assert_eq(svy_err_sys(NULL, EACCES, NULL, 0, "x"), SVY_E_IO, "err may be NULL");
}
