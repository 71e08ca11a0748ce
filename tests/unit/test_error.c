#include <criterion/criterion.h>
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
