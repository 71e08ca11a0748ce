/* libsurvey: export macro and version shared by every public header. */
#ifndef SURVEY_COMMON_H
#define SURVEY_COMMON_H

#if defined(__GNUC__)
#define SVY_API __attribute__((visibility("default")))
#else
#define SVY_API
#endif

#define SVY_VERSION_STRING "0.3.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the library the program runs against (may differ from the headers). */
SVY_API const char *svy_version(void);

#ifdef __cplusplus
}
#endif

#endif
