/* Unique: a stable merge sort of the slice indices, then one walk over the
 * sorted order to form the groups of equal slices.  Stability makes each
 * group's first member its first occurrence, which `indices` reports. */
#include <math.h>
#include <string.h>

#include "../../src/core/alloc.h"
#include "../../src/core/dtype.h"
#include "misc.h"

typedef struct uq {
    const ot_tensor *x;
    int64_t D, outer, inner; /* x viewed as (outer, D, inner); slices along D */
    int kind;                /* 0 float, 1 signed / bool, 2 uint64 */
} uq;

static int cmp_elem(const uq *u, int64_t i, int64_t j) {
    const ot_tensor *x = u->x;
    if (u->kind == 0) {
        const double a = ot_load_f64(x->dtype, x->data, i), b = ot_load_f64(x->dtype, x->data, j);
        const bool na = isnan(a), nb = isnan(b);
        if (na || nb) return na && nb ? 0 : na ? 1 : -1;
        return a < b ? -1 : a > b ? 1 : 0;
    }
    if (u->kind == 2) {
        const uint64_t a = ((const uint64_t *)x->data)[i], b = ((const uint64_t *)x->data)[j];
        return a < b ? -1 : a > b ? 1 : 0;
    }
    const int64_t a = ot_load_i64(x->dtype, x->data, i), b = ot_load_i64(x->dtype, x->data, j);
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Lexicographic over the slice's elements in row-major order (numpy moves
   the axis to the front and compares the flattened rows). */
static int cmp_slice(const uq *u, int64_t a, int64_t b) {
    for (int64_t o = 0; o < u->outer; o++)
        for (int64_t i = 0; i < u->inner; i++) {
            const int c = cmp_elem(u, (o * u->D + a) * u->inner + i, (o * u->D + b) * u->inner + i);
            if (c) return c;
        }
    return 0;
}

/* Bottom-up stable merge sort of ord[0..n) by cmp_slice, with tmp of n. */
static void merge_sort(const uq *u, int64_t *ord, int64_t *tmp, int64_t n) {
    int64_t *src = ord, *dst = tmp;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            const int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = cmp_slice(u, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        int64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != ord) memcpy(ord, src, sizeof(int64_t) * (size_t)n);
}

ot_status ot_cpu_unique(const ot_tensor *x, int axis, bool sorted, int64_t *count, ot_tensor *y, int64_t *first,
                        int64_t *inverse, int64_t *counts) {
    uq u = {x, ot_tensor_numel(x), 1, 1, ot_dtype_is_float(x->dtype) ? 0 : x->dtype == OT_UINT64 ? 2 : 1};
    if (axis >= 0) {
        u.D = x->dims[axis];
        for (int d = 0; d < axis; d++) u.outer *= x->dims[d];
        for (int d = axis + 1; d < x->rank; d++) u.inner *= x->dims[d];
    }
    const int64_t D = u.D;
    const size_t nb = sizeof(int64_t) * (size_t)(D > 0 ? D : 1);
    /* ord, tmp, group of each slice, first member and size of each group, new group order */
    int64_t *buf = ot_malloc(6 * nb);
    if (!buf) return ot_error(OT_ERR_NOMEM, "Unique: out of memory");
    int64_t *ord = buf, *tmp = ord + D, *grp = tmp + D, *gfirst = grp + D, *gcount = gfirst + D, *gpos = gcount + D;
    for (int64_t i = 0; i < D; i++) ord[i] = i;
    merge_sort(&u, ord, tmp, D);
    int64_t U = 0;
    for (int64_t k = 0; k < D; k++) {
        if (k == 0 || cmp_slice(&u, ord[k - 1], ord[k]) != 0) {
            gfirst[U] = ord[k];
            gcount[U] = 0;
            U++;
        }
        grp[ord[k]] = U - 1;
        gcount[U - 1]++;
    }
    /* Output position of each group: sorted order, or order of first occurrence. */
    if (sorted) {
        for (int64_t g = 0; g < U; g++) gpos[g] = g;
    } else {
        int64_t next = 0;
        for (int64_t s = 0; s < D; s++)
            if (gfirst[grp[s]] == s) gpos[grp[s]] = next++;
    }
    *count = U;
    for (int64_t g = 0; g < U; g++) {
        if (first) first[gpos[g]] = gfirst[g];
        if (counts) counts[gpos[g]] = gcount[g];
    }
    if (inverse)
        for (int64_t s = 0; s < D; s++) inverse[s] = gpos[grp[s]];
    if (y) {
        const size_t es = ot_dtype_size(x->dtype), row = es * (size_t)u.inner;
        for (int64_t g = 0; g < U; g++)
            for (int64_t o = 0; o < u.outer; o++)
                memcpy((char *)y->data + (size_t)(o * U + gpos[g]) * row,
                       (const char *)x->data + (size_t)(o * D + gfirst[g]) * row, row);
    }
    ot_free(buf);
    return OT_OK;
}
