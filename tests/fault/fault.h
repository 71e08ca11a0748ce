/* Fault injection for the fault driver (see fault.c and tests/README.md). */
#ifndef SVY_FAULT_H
#define SVY_FAULT_H

typedef enum fault_class {
    FAULT_NONE = 0,
    FAULT_ALLOC, /* malloc, calloc, realloc, fdopen, iconv_open */
    FAULT_IO     /* open, read, write, fsync, close, rename, mkstemp, fwrite, fflush, fclose */
} fault_class;

/* Make the nth call (1-based) of class c fail from now on. */
void fault_arm(fault_class c, long n);
/* Stop injecting; returns the calls of the armed class made while armed and
 * sets *was_hit when the nth one was reached. */
long fault_disarm(int *was_hit);

#endif
