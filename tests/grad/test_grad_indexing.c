/* Gradient checks for the indexing family: Gather (every axis, duplicate and
 * negative indices, scalar and int32 indices), GatherElements, GatherND
 * (batch_dims), ScatterElements / Scatter / ScatterND with reduction none
 * (including duplicates: the update that stays gets the gradient) and add;
 * mul/max/min must be refused.  Then GatherGrad's parallel float32 paths
 * (embedding, many outer blocks) and its float16 path against a naive
 * scatter-add. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/cpu/indexing.h"
#include "src/core/alloc.h"
#include "src/core/half.h"

#define NDIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
/* Integer constant indices of shape dims with the listed values. */
#define IDX(dims, ...) {GC_CONST, OT_INT64, NDIMS dims, {IDX_UNPACK dims}, (const int64_t[]){__VA_ARGS__}}
#define IDX32(dims, ...) {GC_CONST, OT_INT32, NDIMS dims, {IDX_UNPACK dims}, (const int64_t[]){__VA_ARGS__}}
#define IDX_UNPACK(...) __VA_ARGS__
#define IDX0(v) {GC_CONST, OT_INT64, 0, {0}, (const int64_t[]){v}}

#define G(nm, op_, os, x, i, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 2, .n_out = 1, .in = {x, i}, \
                                       .n_attrs = na, .attrs = {__VA_ARGS__}}
#define S(nm, op_, os, x, i, u, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 3, .n_out = 1,    \
                                          .in = {x, i, u}, .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case cases[] = {
    /* Gather */
    G("gather_axis0_dup_neg", "Gather", 13, D(5, 3), IDX((4), 0, 2, -1, 2), 0, AI("", 0)),
    G("gather_axis1_2d_indices", "Gather", 13, D(2, 4, 3), IDX((2, 2), 3, 0, 0, -4), 1, AI("axis", 1)),
    G("gather_axis_neg1_scalar_index", "Gather", 11, D(3, 4), IDX0(2), 1, AI("axis", -1)),
    G("gather_int32_indices_opset1", "Gather", 7, D(4, 2), IDX32((3), 1, 1, 3), 0, AI("", 0)),
    G("gather_axis2_all_same", "Gather", 13, D(2, 2, 3), IDX((2), 1, 1), 1, AI("axis", 2)),

    {.name = "gather_float32", .op = "Gather", .opset = 13, .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, OT_FLOAT, 2, {4, 3}}, IDX((3), 1, -3, 1)}, .rtol = 1e-3, .atol = 1e-4, .h = 1.0 / 64},
    {.name = "gather_bfloat16", .op = "Gather", .opset = 13, .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, OT_BFLOAT16, 2, {4, 3}}, IDX((3), 1, -3, 1)}, .rtol = 3e-2, .atol = 3e-2, .h = 1.0 / 8},

    /* GatherElements */
    G("gather_elements_axis0_dup", "GatherElements", 13, D(3, 3), IDX((2, 3), 1, 0, 2, 1, 1, -1), 1, AI("axis", 0)),
    G("gather_elements_axis1_smaller", "GatherElements", 11, D(3, 4), IDX((2, 3), 3, -4, 1, 0, 0, 2), 1,
      AI("axis", 1)),
    G("gather_elements_3d_axis_neg1", "GatherElements", 13, D(2, 2, 3), IDX((2, 2, 2), 2, 0, 1, 1, 0, 0, 2, -1), 1,
      AI("axis", -1)),

    /* GatherND */
    G("gather_nd_k2_slices", "GatherND", 11, D(2, 3, 4), IDX((3, 2), 1, 2, 0, 0, 1, 2), 0, AI("", 0)),
    G("gather_nd_k1_dup_neg", "GatherND", 12, D(3, 2), IDX((3, 1), 2, -1, 0), 0, AI("", 0)),
    G("gather_nd_full_depth", "GatherND", 13, D(2, 3), IDX((2, 2, 2), 0, 1, 1, 2, 1, 2, 0, 0), 0, AI("", 0)),
    G("gather_nd_batch_dims1", "GatherND", 13, D(2, 3, 4), IDX((2, 2, 1), 2, 0, 1, 1), 1, AI("batch_dims", 1)),
    G("gather_nd_batch_dims2", "GatherND", 13, D(2, 2, 3), IDX((2, 2, 1), 2, 0, 1, -1), 1, AI("batch_dims", 2)),

    /* ScatterElements / Scatter */
    S("scatter_elements_none", "ScatterElements", 11, D(3, 3), IDX((2, 3), 1, 0, 2, 0, 2, 1), D(2, 3), 1,
      AI("axis", 0)),
    S("scatter_elements_none_duplicates", "ScatterElements", 13, D(3, 3), IDX((2, 3), 1, 0, 2, 1, 2, 2), D(2, 3), 0,
      AI("", 0)),
    S("scatter_elements_axis1_negative", "ScatterElements", 13, D(2, 4), IDX((2, 2), -1, 0, 2, -2), D(2, 2), 1,
      AI("axis", 1)),
    S("scatter_elements_add_duplicates", "ScatterElements", 16, D(3, 3), IDX((2, 3), 1, 0, 2, 1, 0, 2), D(2, 3), 2,
      AI("axis", 0), AS("reduction", "add")),
    S("scatter_elements_none_explicit", "ScatterElements", 18, D(2, 3), IDX((2, 2), 2, 2, 0, 1), D(2, 2), 2,
      AI("axis", 1), AS("reduction", "none")),
    S("scatter_opset10", "Scatter", 10, D(3, 2), IDX((1, 2), 2, 0), D(1, 2), 0, AI("", 0)),

    /* ScatterND */
    S("scatter_nd_none_rows", "ScatterND", 11, D(4, 3), IDX((2, 1), 3, 0), D(2, 3), 0, AI("", 0)),
    S("scatter_nd_none_duplicates", "ScatterND", 13, D(4, 3), IDX((3, 1), 1, 2, -3), D(3, 3), 0, AI("", 0)),
    S("scatter_nd_none_elements", "ScatterND", 13, D(2, 3, 2), IDX((2, 2), 1, 2, 0, 1), D(2, 2), 0, AI("", 0)),
    S("scatter_nd_add_duplicates", "ScatterND", 16, D(4, 2), IDX((3, 1), 1, 1, 3), D(3, 2), 1,
      AS("reduction", "add")),
};

/* Must be refused with OT_ERR_UNSUPPORTED: gc_run reports the failure. */
static const gc_case refused[] = {
    S("scatter_elements_mul_refused", "ScatterElements", 16, D(3, 3), IDX((1, 3), 1, 0, 2), D(1, 3), 1,
      AS("reduction", "mul")),
    S("scatter_nd_max_refused", "ScatterND", 18, D(3, 2), IDX((1, 1), 2), D(1, 2), 1, AS("reduction", "max")),
};

/* ---- GatherGrad against a naive scatter-add ------------------------------- */

static uint64_t rng = 88172645463325252ull;
static int64_t next_int(int64_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int64_t)(rng % (uint64_t)n);
}

static int check_gather_grad(const char *name, ot_dtype dt, int64_t outer, int64_t adim, int64_t inner, int64_t n_idx) {
    int64_t ny = outer * n_idx * inner, nx = outer * adim * inner;
    int64_t *idx = ot_malloc(sizeof(int64_t) * (size_t)n_idx);
    double *ref = ot_calloc((size_t)nx, sizeof(double)), *yv = ot_malloc(sizeof(double) * (size_t)ny);
    size_t es = ot_dtype_size(dt);
    void *dy = ot_malloc(es * (size_t)ny), *dx = ot_malloc(es * (size_t)nx);
    for (int64_t j = 0; j < n_idx; j++) idx[j] = next_int(2 * adim) - adim; /* negative ones too */
    for (int64_t i = 0; i < ny; i++) {
        ot_store_f64(dt, dy, i, (double)(next_int(2001) - 1000) / 1024.0);
        yv[i] = ot_load_f64(dt, dy, i);
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n_idx; j++) {
            int64_t r = idx[j] < 0 ? idx[j] + adim : idx[j];
            for (int64_t i = 0; i < inner; i++) ref[(o * adim + r) * inner + i] += yv[(o * n_idx + j) * inner + i];
        }
    int fails = ot_cpu_gather_grad(dt, dx, outer, adim, inner, idx, true, n_idx, dy) != OT_OK;
    double tol = dt == OT_FLOAT16 ? 2e-3 : 1e-5;
    for (int64_t i = 0; i < nx && !fails; i++) {
        double got = ot_load_f64(dt, dx, i);
        if (fabs(got - ref[i]) > tol * (1 + fabs(ref[i]))) {
            printf("%s: dx[%lld] = %g, want %g\n", name, (long long)i, got, ref[i]);
            fails = 1;
        }
    }
    printf("%s: %s\n", name, fails ? "FAILED" : "ok");
    ot_free(idx);
    ot_free(ref);
    ot_free(yv);
    ot_free(dy);
    ot_free(dx);
    return fails;
}

int main(void) {
    int rc = gc_run_all(cases, sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (gc_run(&refused[i]) == 0 || !strstr(ot_last_error(), "has no gradient rule")) {
            printf("%s: expected OT_ERR_UNSUPPORTED\n", refused[i].name);
            rc = 1;
        }
    }
    rc |= check_gather_grad("gather_grad_embedding_f32", OT_FLOAT, 1, 1000, 64, 5000);
    rc |= check_gather_grad("gather_grad_outer_blocks_f32", OT_FLOAT, 64, 50, 40, 30);
    rc |= check_gather_grad("gather_grad_small_f64", OT_DOUBLE, 3, 7, 2, 9);
    rc |= check_gather_grad("gather_grad_f16", OT_FLOAT16, 2, 10, 8, 12);
    return rc;
}
