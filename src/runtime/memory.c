/* A program's memory plan: liveness and aliasing (passes/liveness.c) give
 * one buffer per alias group, each step's kernel scratch is one more buffer
 * live only during that step, the planner (passes/plan.c) packs them into
 * one arena, and the slots point into it.  Parameters and optimizer state
 * are persistent and live outside (mutable slots, the trainer). */
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "../passes/liveness.h"
#include "../passes/schedule.h"
#include "program.h"

void ot_arena_share_free(ot_arena_share *s) {
    if (s->raw) s->backend->free(s->raw);
    memset(s, 0, sizeof *s);
}

/* Slots point at their buffers' offsets from p->arena. */
static void ot_point_slots(ot_program *p) {
    for (int v = 0; v < p->n_slots; v++)
        if (p->slot_buf[v] >= 0) p->slots[v].data = p->arena + p->bufs[p->slot_buf[v]].offset;
}

ot_status ot_program_bind_arena(ot_program *p) {
    ot_arena_share *s = p->share;
    if (!s || s->bound == p) return OT_OK;
    size_t need = p->plan.arena_bytes;
    if (s->cap < need || !s->raw) {
        if (s->raw) s->backend->free(s->raw);
        s->raw = NULL;
        s->cap = 0;
        s->backend = p->backend;
        /* only malloc-aligned: over-allocate by the alignment, as an own arena */
        if (!(s->raw = p->backend->alloc(need + OT_PLAN_ALIGN)))
            return ot_error(OT_ERR_NOMEM, "out of memory allocating a %zu-byte shared arena", need);
        s->base = (char *)(((uintptr_t)s->raw + OT_PLAN_ALIGN - 1) & ~(uintptr_t)(OT_PLAN_ALIGN - 1));
        s->cap = need;
    }
    if (s->bound) ((ot_program *)s->bound)->arena = NULL;
    p->arena = s->base;
    ot_point_slots(p);
    s->bound = p;
    return OT_OK;
}

void ot_program_free_memory(ot_program *p) {
    if (p->share && p->share->bound == p) p->share->bound = NULL;
    if (p->arena_raw) p->backend->free(p->arena_raw);
    p->arena_raw = NULL;
    p->arena = NULL;
    ot_free(p->bufs);
    ot_free(p->slot_buf);
    ot_free(p->ws_need);
    p->bufs = NULL;
    p->slot_buf = NULL;
    p->ws_need = NULL;
    p->n_bufs = p->n_groups = 0;
}

/* Offsets for the buffers as they stand (scratch sizes from ws_need), the
   report's figures, a fresh arena, and the slots' data pointers. */
static ot_status ot_program_place(ot_program *p) {
    for (int s = 0; s < p->n_steps; s++) p->bufs[p->n_groups + s].size = p->ws_need[s];
    size_t arena = 0;
    if (p->naive_plan) {
        for (int i = 0; i < p->n_bufs; i++) {
            p->bufs[i].offset = arena;
            size_t r = ot_plan_round(p->bufs[i].size, OT_PLAN_ALIGN);
            if (r == SIZE_MAX || arena > SIZE_MAX - r) return ot_error(OT_ERR_NOMEM, "the program needs more than SIZE_MAX bytes");
            arena += r;
        }
    } else {
        OT_TRY(ot_plan_assign(p->bufs, p->n_bufs, OT_PLAN_ALIGN, &arena));
    }
    ot_plan_report *r = &p->plan;
    r->arena_bytes = arena;
    r->lower_bound_bytes = ot_plan_lower_bound(p->bufs, p->n_bufs, OT_PLAN_ALIGN);
    r->lower_bound_unscheduled_bytes = r->lower_bound_bytes;
    if (p->unscheduled) /* the same figure for the graph's order, with the same scratch sizes */
        OT_TRY(ot_schedule_peak(p, p->unscheduled, p->ws_need, &r->lower_bound_unscheduled_bytes));
    r->workspace_bytes = 0;
    for (int s = 0; s < p->n_steps; s++) r->workspace_bytes += ot_plan_round(p->ws_need[s], OT_PLAN_ALIGN);
    size_t naive = r->workspace_bytes;
    for (int v = 0; v < p->n_slots; v++)
        if (p->slot_buf[v] >= 0) naive += ot_plan_round(ot_tensor_nbytes(&p->slots[v]), OT_PLAN_ALIGN);
    r->naive_bytes = naive;

    if (p->share) { /* bound (and the arena grown) when it runs */
        if (p->share->bound == p) p->share->bound = NULL;
        p->arena = NULL;
        p->replan = false;
        return OT_OK;
    }
    if (p->arena_raw) p->backend->free(p->arena_raw);
    p->arena = NULL;
    /* The backend's allocation is only malloc-aligned: over-allocate by the
       alignment and start at the first aligned byte. */
    if (!(p->arena_raw = p->backend->alloc(arena + OT_PLAN_ALIGN)))
        return ot_error(OT_ERR_NOMEM, "out of memory allocating the program's %zu-byte arena", arena);
    p->arena = (char *)(((uintptr_t)p->arena_raw + OT_PLAN_ALIGN - 1) & ~(uintptr_t)(OT_PLAN_ALIGN - 1));
    ot_point_slots(p);
    p->replan = false;
    return OT_OK;
}

ot_status ot_program_plan_memory(ot_program *p) {
    ot_liveness l;
    OT_TRY(ot_liveness_compute(p, !p->naive_plan, &l));
    int nv = p->n_slots, groups = 0;
    ot_status st = OT_OK;
    p->slot_buf = ot_malloc(sizeof(int) * (size_t)(nv + 1));
    p->ws_need = ot_calloc((size_t)p->n_steps + 1, sizeof *p->ws_need);
    if (!p->slot_buf || !p->ws_need) {
        st = ot_error(OT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int v = 0; v < nv; v++) {
        p->slot_buf[v] = -1;
        if (l.group[v] == v) p->slot_buf[v] = groups++;
    }
    p->n_groups = groups;
    p->n_bufs = groups + p->n_steps;
    if (!(p->bufs = ot_calloc((size_t)p->n_bufs + 1, sizeof *p->bufs))) {
        st = ot_error(OT_ERR_NOMEM, "out of memory");
        goto done;
    }
    ot_plan_report *r = &p->plan;
    *r = (ot_plan_report){0};
    for (int v = 0; v < nv; v++) {
        if (p->slot_buf[v] >= 0) {
            ot_plan_buf *b = &p->bufs[p->slot_buf[v]];
            b->size = ot_tensor_nbytes(&p->slots[v]);
            b->first = l.first[v];
            b->last = l.group_last[v];
        }
        if (p->kinds[v] == OT_SLOT_PARAM) r->persistent_bytes += ot_plan_round(ot_tensor_nbytes(&p->slots[v]), OT_PLAN_ALIGN);
        if (p->kinds[v] == OT_SLOT_CONST) r->constant_bytes += ot_tensor_nbytes(&p->slots[v]);
        if (l.group[v] >= 0) r->transient_values++;
    }
    for (int v = 0; v < nv; v++) /* members share their group's buffer */
        if (l.group[v] >= 0 && l.group[v] != v) p->slot_buf[v] = p->slot_buf[l.group[v]];
    for (int s = 0; s < p->n_steps; s++) {
        ot_plan_buf *b = &p->bufs[groups + s];
        b->first = b->last = s;
        p->ws_need[s] = p->steps[s].workspace;
    }
    r->buffers = groups;
    r->inplace = l.n_inplace;
    r->aliased = l.n_aliased;
    st = ot_program_place(p);
done:
    ot_liveness_free(&l);
    return st;
}

ot_status ot_program_replan(ot_program *p) {
    if (!p->bufs) return ot_error(OT_ERR_INTERNAL, "program has no memory plan");
    ot_status st = ot_program_place(p);
    if (st) { /* leave the program runnable on the next try, without an arena */
        p->arena = NULL;
        p->arena_raw = NULL;
        p->replan = true;
    }
    return st;
}
