/* Kernel scratch: bump allocation out of the step's workspace, the heap
 * otherwise (see scratch.h).  State is per thread: one program runs on one
 * thread at a time, and different sessions on different threads never share
 * a workspace. */
#include "scratch.h"

#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"

/* Every block starts OT_SCRATCH_HEADER bytes after its header, which holds
   where the block came from; 64 keeps workspace blocks cache-line aligned. */
#define OT_SCRATCH_HEADER 64
#define OT_SCRATCH_HEAP 0x6865617073637261ull /* "heapscra" */
#define OT_SCRATCH_WS 0x776f726b73706163ull   /* "workspac" */

typedef struct ot_scratch_state {
    char *base;
    size_t cap, used, demand;
    int active;
    size_t requested;
} ot_scratch_state;

static _Thread_local ot_scratch_state tl;

static size_t ot_round64(size_t n) { return n > SIZE_MAX - 63 ? SIZE_MAX : (n + 63) & ~(size_t)63; }

size_t ot_scratch_footprint(size_t bytes) {
    size_t r = ot_round64(bytes);
    return r > SIZE_MAX - OT_SCRATCH_HEADER ? SIZE_MAX : r + OT_SCRATCH_HEADER;
}

void *ot_scratch_alloc(size_t bytes) {
    size_t need = ot_scratch_footprint(bytes);
    if (need == SIZE_MAX) return NULL;
    char *block = NULL;
    uint64_t tag = OT_SCRATCH_WS;
    if (tl.active) {
        tl.demand = tl.demand > SIZE_MAX - need ? SIZE_MAX : tl.demand + need;
        if (tl.base && tl.cap - tl.used >= need) {
            block = tl.base + tl.used;
            tl.used += need;
        }
    }
    if (!block) {
        if (!(block = ot_malloc(need))) return NULL;
        tag = OT_SCRATCH_HEAP;
    }
    memcpy(block, &tag, sizeof tag);
    return block + OT_SCRATCH_HEADER;
}

void *ot_scratch_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = ot_scratch_alloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void ot_scratch_free(void *p) {
    if (!p) return;
    char *block = (char *)p - OT_SCRATCH_HEADER;
    uint64_t tag;
    memcpy(&tag, block, sizeof tag);
    if (tag == OT_SCRATCH_HEAP) ot_free(block);
    /* workspace blocks are reclaimed when the step ends */
}

void ot_scratch_request(size_t bytes) {
    size_t need = ot_scratch_footprint(bytes);
    tl.requested = tl.requested > SIZE_MAX - need ? SIZE_MAX : tl.requested + need;
}

void ot_scratch_begin(void *base, size_t cap) {
    tl.base = base;
    tl.cap = base ? cap : 0;
    tl.used = tl.demand = 0;
    tl.active = 1;
}

size_t ot_scratch_end(void) {
    size_t d = tl.demand;
    tl.base = NULL;
    tl.cap = tl.used = tl.demand = 0;
    tl.active = 0;
    return d;
}

void ot_scratch_request_begin(void) { tl.requested = 0; }

size_t ot_scratch_request_end(void) {
    size_t r = tl.requested;
    tl.requested = 0;
    return r;
}
