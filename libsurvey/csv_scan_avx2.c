/* csv_scan.c's row loop built with AVX2 and BMI (this file alone gets
 * -mavx2 -mbmi -mbmi2 -mpopcnt): 32-byte compares, one mask move for 32
 * bytes, and BMI's bit steps per field.  svy_csv_scan_init takes it when the
 * CPU has them. */
#define SCAN_FN svy_csv_scan_avx2
#define SCAN_LINKAGE
#include "csv_scan_body.h"
