/* The message catalogue: every entry in both languages, placeholders. */
#include <criterion/criterion.h>
#include <string.h>
#include <survey/messages.h>

Test(messages, every_entry_in_both_languages)
{
    for (int id = 0; id < SVY_MSG_COUNT_; id++) {
        const char *en = svy_msg(SVY_LANG_EN, (svy_msg_id)id);
        const char *zh = svy_msg(SVY_LANG_ZH, (svy_msg_id)id);
        cr_assert(*en, "message %d has no English text", id);
        cr_assert(*zh, "message %d has no Chinese text", id);
        /* the same placeholders in both */
        for (char k = '1'; k <= '9'; k++) {
            char ph[4] = {'{', k, '}', 0};
            cr_assert_eq(strstr(en, ph) != NULL, strstr(zh, ph) != NULL, "message %d: {%c} in one language only",
                         id, k);
        }
    }
    cr_assert_str_eq(svy_msg(SVY_LANG_EN, SVY_MSG_COUNT_), "");
}

Test(messages, format_places_arguments)
{
    char buf[200];
    size_t n = svy_msg_format(buf, sizeof buf, SVY_LANG_EN, SVY_MSG_TAB_DESIGN, "weight w", "10 rows",
                              "Taylor linearization", (const char *)NULL);
    cr_assert_str_eq(buf, "Design: weight w; 10 rows. Variance: Taylor linearization. ");
    cr_assert_eq(n, strlen(buf));
    svy_msg_format(buf, sizeof buf, SVY_LANG_ZH, SVY_MSG_TAB_ROLE_WEIGHT, "w", (const char *)NULL);
    cr_assert_str_eq(buf, "权重 w");
}

Test(messages, format_truncates_and_counts)
{
    char buf[8];
    size_t n = svy_msg_format(buf, sizeof buf, SVY_LANG_EN, SVY_MSG_TAB_CI, "95", "logit", (const char *)NULL);
    cr_assert_str_eq(buf, "95% CI:");
    cr_assert_eq(n, strlen("95% CI: logit (means and totals: Wald)."));
}
