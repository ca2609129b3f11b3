#include "broadcast.h"

#include <omp.h>

#include "../../src/core/shape.h"

ot_status ot_bcast_init(ot_bcast *it, int out_rank, const int64_t *out_dims, int n_ops, const int *ranks,
                        const int64_t *const *dims, const size_t *elem_size) {
    if (n_ops < 1 || n_ops > OT_BCAST_MAX_OPERANDS)
        return ot_error(OT_ERR_INTERNAL, "broadcast: %d operands (at most %d)", n_ops, OT_BCAST_MAX_OPERANDS);
    if (out_rank < 0 || out_rank > OT_MAX_RANK) return ot_error(OT_ERR_INTERNAL, "broadcast: rank %d", out_rank);
    it->n_ops = n_ops;
    OT_TRY(ot_shape_numel(out_rank, out_dims, &it->numel));

    /* Full-rank byte strides; an operand's dim must equal the output's or be 1. */
    int64_t st[OT_BCAST_MAX_OPERANDS][OT_MAX_RANK];
    for (int k = 0; k < n_ops; k++) {
        int r = k ? ranks[k] : out_rank;
        const int64_t *d = k ? dims[k] : out_dims;
        size_t es = elem_size[k];
        if (r > out_rank) goto mismatch;
        int64_t s = (int64_t)es;
        for (int i = out_rank - 1; i >= 0; i--) {
            int j = i - (out_rank - r);
            int64_t di = j >= 0 ? d[j] : 1;
            if (di == out_dims[i]) {
                st[k][i] = di == 1 ? 0 : s;
                s *= di;
            } else if (di == 1) {
                st[k][i] = 0;
            } else {
                goto mismatch;
            }
        }
    }

    /* Drop size-1 dims, then merge an outer dim into the next inner one when
       every operand steps over the pair as over one dim. */
    int r = 0;
    for (int i = 0; i < out_rank; i++) {
        if (out_dims[i] == 1) continue;
        it->dims[r] = out_dims[i];
        for (int k = 0; k < n_ops; k++) it->strides[k][r] = st[k][i];
        r++;
    }
    int m = 0; /* merged rank */
    for (int i = 0; i < r; i++) {
        if (m > 0) {
            bool merge = true;
            for (int k = 0; k < n_ops && merge; k++)
                merge = it->strides[k][m - 1] == it->strides[k][i] * it->dims[i];
            if (merge) {
                it->dims[m - 1] *= it->dims[i];
                for (int k = 0; k < n_ops; k++) it->strides[k][m - 1] = it->strides[k][i];
                continue;
            }
        }
        it->dims[m] = it->dims[i];
        for (int k = 0; k < n_ops; k++) it->strides[k][m] = it->strides[k][i];
        m++;
    }
    if (m == 0) { /* scalar output: one element */
        it->dims[0] = 1;
        for (int k = 0; k < n_ops; k++) it->strides[k][0] = 0;
        m = 1;
    }
    it->rank = m;
    return OT_OK;

mismatch : {
    char so[128], si[128];
    int k = 1;
    for (; k < n_ops; k++) {
        if (ranks[k] > out_rank) break;
        bool ok = true;
        for (int j = 0; j < ranks[k]; j++) {
            int64_t o = out_dims[j + out_rank - ranks[k]];
            if (dims[k][j] != o && dims[k][j] != 1) ok = false;
        }
        if (!ok) break;
    }
    if (k >= n_ops) k = n_ops - 1;
    return ot_error(OT_ERR_SHAPE, "input %d of shape %s does not broadcast to output shape %s", k - 1,
                    ot_shape_str(ranks[k], dims[k], si, sizeof si), ot_shape_str(out_rank, out_dims, so, sizeof so));
}
}

/* Output elements [start, end) in row-major order, one fn call per stretch
   of the innermost dim. */
static void bcast_walk(const ot_bcast *it, char *const *base, int64_t start, int64_t end, ot_bcast_fn fn,
                       const void *ctx) {
    const int r = it->rank, nk = it->n_ops;
    int64_t idx[OT_MAX_RANK];
    char *p[OT_BCAST_MAX_OPERANDS];
    int64_t inner[OT_BCAST_MAX_OPERANDS];
    int64_t rem = start;
    for (int d = r - 1; d >= 0; d--) {
        idx[d] = rem % it->dims[d];
        rem /= it->dims[d];
    }
    for (int k = 0; k < nk; k++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++) off += idx[d] * it->strides[k][d];
        p[k] = base[k] + off;
        inner[k] = it->strides[k][r - 1];
    }
    int64_t pos = start;
    while (pos < end) {
        int64_t n = it->dims[r - 1] - idx[r - 1];
        if (n > end - pos) n = end - pos;
        fn(p, inner, n, ctx);
        pos += n;
        idx[r - 1] += n;
        for (int k = 0; k < nk; k++) p[k] += n * inner[k];
        for (int d = r - 1; d > 0 && idx[d] == it->dims[d]; d--) {
            for (int k = 0; k < nk; k++) p[k] += it->strides[k][d - 1] - it->dims[d] * it->strides[k][d];
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
}

void ot_bcast_run(const ot_bcast *it, char *const *base, ot_bcast_fn fn, const void *ctx, int64_t grain) {
    const int64_t total = it->numel;
    if (total == 0) return;
    if (grain <= 0) grain = OT_GRAIN_CHEAP;
    int threads = omp_get_max_threads();
    if (threads <= 1 || total < 2 * grain || omp_in_parallel()) {
        bcast_walk(it, base, 0, total, fn, ctx);
        return;
    }
    /* A few chunks per thread evens out uneven speeds; chunks never go below
       the grain so the per-call overhead stays small. */
    int64_t chunks = total / grain;
    if (chunks > (int64_t)threads * 4) chunks = (int64_t)threads * 4;
    const int64_t per = (total + chunks - 1) / chunks;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t s = c * per, e = s + per < total ? s + per : total;
        if (s < e) bcast_walk(it, base, s, e, fn, ctx);
    }
}

ot_status ot_bcast_tensors(ot_tensor *out, int n_in, const ot_tensor *const *in, ot_bcast_fn fn, const void *ctx,
                           int64_t grain) {
    if (n_in + 1 > OT_BCAST_MAX_OPERANDS)
        return ot_error(OT_ERR_INTERNAL, "broadcast: %d inputs (at most %d)", n_in, OT_BCAST_MAX_OPERANDS - 1);
    int ranks[OT_BCAST_MAX_OPERANDS];
    const int64_t *dims[OT_BCAST_MAX_OPERANDS];
    size_t es[OT_BCAST_MAX_OPERANDS];
    char *base[OT_BCAST_MAX_OPERANDS];
    ranks[0] = out->rank;
    dims[0] = out->dims;
    es[0] = ot_dtype_size(out->dtype);
    base[0] = out->data;
    for (int k = 0; k < n_in; k++) {
        ranks[k + 1] = in[k]->rank;
        dims[k + 1] = in[k]->dims;
        es[k + 1] = ot_dtype_size(in[k]->dtype);
        base[k + 1] = in[k]->data;
    }
    ot_bcast it;
    OT_TRY(ot_bcast_init(&it, out->rank, out->dims, n_in + 1, ranks, dims, es));
    ot_bcast_run(&it, base, fn, ctx, grain);
    return OT_OK;
}

ot_status ot_bcast_shape(int n, const ot_tensor *const *t, int *rank, int64_t *dims) {
    int r = 0;
    int64_t d[OT_MAX_RANK] = {0};
    for (int k = 0; k < n; k++) {
        if (!t[k]) continue;
        OT_TRY(ot_shape_broadcast(r, d, t[k]->rank, t[k]->dims, &r, d));
    }
    *rank = r;
    for (int i = 0; i < r; i++) dims[i] = d[i];
    return OT_OK;
}

void ot_parallel_range(int64_t n, int64_t grain, ot_range_fn body, const void *ctx) {
    if (n <= 0) return;
    if (grain <= 0) grain = OT_GRAIN_CHEAP;
    int threads = omp_get_max_threads();
    if (threads <= 1 || n < 2 * grain || omp_in_parallel()) {
        body(0, n, ctx);
        return;
    }
    int64_t chunks = n / grain;
    if (chunks > (int64_t)threads * 4) chunks = (int64_t)threads * 4;
    const int64_t per = (n + chunks - 1) / chunks;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t s = c * per, e = s + per < n ? s + per : n;
        if (s < e) body(s, e, ctx);
    }
}
