/* Kernel scratch: bump allocation out of the step's workspace, the heap
 * otherwise (see workspace.h).  State is per thread: one program runs on one
 * thread at a time, and different sessions on different threads never share
 * a workspace. */
#include "workspace.h"

#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"

/* Every block starts OT_WORKSPACE_HEADER bytes after its header, which holds
   where the block came from; 64 keeps workspace blocks cache-line aligned. */
#define OT_WORKSPACE_HEADER 64
#define OT_WORKSPACE_HEAP 0x6865617073637261ull /* "heapscra" */
#define OT_WORKSPACE_WS 0x776f726b73706163ull   /* "workspac" */

static _Thread_local ot_workspace_state tl;
static _Thread_local size_t tl_requested;

static size_t ot_round64(size_t n) { return n > SIZE_MAX - 63 ? SIZE_MAX : (n + 63) & ~(size_t)63; }

size_t ot_workspace_footprint(size_t bytes) {
    size_t r = ot_round64(bytes);
    return r > SIZE_MAX - OT_WORKSPACE_HEADER ? SIZE_MAX : r + OT_WORKSPACE_HEADER;
}

void *ot_workspace_alloc(size_t bytes) {
    size_t need = ot_workspace_footprint(bytes);
    if (need == SIZE_MAX) return NULL;
    char *block = NULL;
    uint64_t tag = OT_WORKSPACE_WS;
    if (tl.active) {
        tl.demand = tl.demand > SIZE_MAX - need ? SIZE_MAX : tl.demand + need;
        if (tl.base && tl.cap - tl.used >= need) {
            block = tl.base + tl.used;
            tl.used += need;
        }
    }
    if (!block) {
        if (!(block = ot_malloc(need))) return NULL;
        tag = OT_WORKSPACE_HEAP;
    }
    memcpy(block, &tag, sizeof tag);
    return block + OT_WORKSPACE_HEADER;
}

void *ot_workspace_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = ot_workspace_alloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void ot_workspace_free(void *p) {
    if (!p) return;
    char *block = (char *)p - OT_WORKSPACE_HEADER;
    uint64_t tag;
    memcpy(&tag, block, sizeof tag);
    if (tag == OT_WORKSPACE_HEAP) ot_free(block);
    /* workspace blocks are reclaimed when the step ends */
}

void ot_workspace_request(size_t bytes) {
    size_t need = ot_workspace_footprint(bytes);
    tl_requested = tl_requested > SIZE_MAX - need ? SIZE_MAX : tl_requested + need;
}

ot_workspace_state ot_workspace_begin(void *base, size_t cap) {
    ot_workspace_state saved = tl;
    tl.base = base;
    tl.cap = base ? cap : 0;
    tl.used = tl.demand = 0;
    tl.active = 1;
    return saved;
}

size_t ot_workspace_end(const ot_workspace_state *saved) {
    size_t d = tl.demand;
    tl = *saved;
    return d;
}

size_t ot_workspace_request_begin(void) {
    size_t saved = tl_requested;
    tl_requested = 0;
    return saved;
}

size_t ot_workspace_request_end(size_t saved) {
    size_t r = tl_requested;
    tl_requested = saved;
    return r;
}
