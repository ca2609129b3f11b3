/* The engine's one allocator: every engine allocation goes through here so
   that tests can count allocations (a steady-state step must make none). */
#ifndef OT_CORE_ALLOC_H
#define OT_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *ot_malloc(size_t n);
void *ot_calloc(size_t count, size_t size);
void *ot_realloc(void *p, size_t n);
void ot_free(void *p);
char *ot_strdup(const char *s);
char *ot_strndup(const char *s, size_t n);

/* Grows *array (of *cap elements of elem_size bytes) to hold at least `need`.
   Returns 0 on success, -1 on overflow or allocation failure. */
int ot_grow(void **array, int *cap, int need, size_t elem_size);

typedef struct ot_alloc_stats {
    uint64_t allocations; /* successful malloc/calloc/realloc calls */
    uint64_t frees;
} ot_alloc_stats;
ot_alloc_stats ot_alloc_get_stats(void);

#endif
