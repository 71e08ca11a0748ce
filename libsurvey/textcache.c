/* The short-text cache (see textcache_private.h). */
#include "textcache_private.h"

#include <stdlib.h>

svy_textcache *svy_textcache_new(size_t n)
{
    return calloc(n ? n : 1, sizeof(svy_textcache));
}
