#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t n_alloc, n_free;

void *ot_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p) atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return p;
}

void *ot_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p) atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return p;
}

void *ot_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (q) atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return q;
}

void ot_free(void *p) {
    if (!p) return;
    atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
    free(p);
}

char *ot_strndup(const char *s, size_t n) {
    char *d = ot_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *ot_strdup(const char *s) { return s ? ot_strndup(s, strlen(s)) : NULL; }

int ot_grow(void **array, int *cap, int need, size_t elem_size) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > (1 << 29)) return -1;
        nc *= 2;
    }
    if ((size_t)nc > SIZE_MAX / elem_size) return -1;
    void *p = ot_realloc(*array, (size_t)nc * elem_size);
    if (!p) return -1;
    memset((char *)p + (size_t)*cap * elem_size, 0, (size_t)(nc - *cap) * elem_size);
    *array = p;
    *cap = nc;
    return 0;
}

ot_alloc_stats ot_alloc_get_stats(void) {
    ot_alloc_stats s = {atomic_load(&n_alloc), atomic_load(&n_free)};
    return s;
}
