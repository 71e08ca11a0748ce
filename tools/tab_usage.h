/* svy-tab --help (tab_usage.c). */
#ifndef SVY_TAB_USAGE_H
#define SVY_TAB_USAGE_H

void svy_tab_usage(void);

#endif
