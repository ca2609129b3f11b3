/* CPU kernels for Gather*, Scatter*, Compress, NonZero and TopK. */
#include "indexing.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/half.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

/* Parallel loops only pay off past this many bytes moved. */
#define OT_IDX_PAR_BYTES ((int64_t)1 << 16)

static inline void copy_elem(char *dst, const char *src, size_t esize) {
    switch (esize) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, esize); break;
    }
}

/* ---- reductions for ScatterElements / ScatterND -------------------------- */

#define OT_DEF_COPY(sz)                                                          \
    static void copy_##sz(void *d, const void *s, int64_t n) { memcpy(d, s, (size_t)n * sz); }
OT_DEF_COPY(1)
OT_DEF_COPY(2)
OT_DEF_COPY(4)
OT_DEF_COPY(8)
OT_DEF_COPY(16)

/* max/min propagate NaN like numpy's maximum/minimum and torch's amax/amin. */
#define OT_DEF_FLOAT_OPS(name, T)                                                        \
    static void add_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++) a[i] += b[i];                                    \
    }                                                                                    \
    static void mul_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++) a[i] *= b[i];                                    \
    }                                                                                    \
    static void max_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++)                                                  \
            if (!isnan(a[i]) && (isnan(b[i]) || b[i] > a[i])) a[i] = b[i];               \
    }                                                                                    \
    static void min_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++)                                                  \
            if (!isnan(a[i]) && (isnan(b[i]) || b[i] < a[i])) a[i] = b[i];               \
    }
OT_DEF_FLOAT_OPS(f32, float)
OT_DEF_FLOAT_OPS(f64, double)

/* Integer add/mul wrap around (computed in uint64 to avoid signed overflow UB). */
#define OT_DEF_INT_OPS(name, T)                                                          \
    static void add_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++) a[i] = (T)((uint64_t)a[i] + (uint64_t)b[i]);     \
    }                                                                                    \
    static void mul_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++) a[i] = (T)((uint64_t)a[i] * (uint64_t)b[i]);     \
    }                                                                                    \
    static void max_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++)                                                  \
            if (b[i] > a[i]) a[i] = b[i];                                                \
    }                                                                                    \
    static void min_##name(void *d, const void *s, int64_t n) {                          \
        T *a = d;                                                                        \
        const T *b = s;                                                                  \
        for (int64_t i = 0; i < n; i++)                                                  \
            if (b[i] < a[i]) a[i] = b[i];                                                \
    }
OT_DEF_INT_OPS(i8, int8_t)
OT_DEF_INT_OPS(u8, uint8_t)
OT_DEF_INT_OPS(i16, int16_t)
OT_DEF_INT_OPS(u16, uint16_t)
OT_DEF_INT_OPS(i32, int32_t)
OT_DEF_INT_OPS(u32, uint32_t)
OT_DEF_INT_OPS(i64, int64_t)
OT_DEF_INT_OPS(u64, uint64_t)

/* float16 / bfloat16: computed in float32, rounded back once per update. */
#define OT_DEF_HALF_OPS(name, TO32, FROM32)                                              \
    static void name##_apply(void *d, const void *s, int64_t n, ot_scatter_reduce r) {   \
        uint16_t *a = d;                                                                 \
        const uint16_t *b = s;                                                           \
        for (int64_t i = 0; i < n; i++) {                                                \
            float x = TO32(a[i]), y = TO32(b[i]);                                        \
            switch (r) {                                                                 \
            case OT_REDUCE_ADD: x += y; break;                                           \
            case OT_REDUCE_MUL: x *= y; break;                                           \
            case OT_REDUCE_MAX: if (!isnan(x) && (isnan(y) || y > x)) x = y; break;      \
            case OT_REDUCE_MIN: if (!isnan(x) && (isnan(y) || y < x)) x = y; break;      \
            default: x = y; break;                                                       \
            }                                                                            \
            a[i] = FROM32(x);                                                            \
        }                                                                                \
    }                                                                                    \
    static void add_##name(void *d, const void *s, int64_t n) { name##_apply(d, s, n, OT_REDUCE_ADD); } \
    static void mul_##name(void *d, const void *s, int64_t n) { name##_apply(d, s, n, OT_REDUCE_MUL); } \
    static void max_##name(void *d, const void *s, int64_t n) { name##_apply(d, s, n, OT_REDUCE_MAX); } \
    static void min_##name(void *d, const void *s, int64_t n) { name##_apply(d, s, n, OT_REDUCE_MIN); }
OT_DEF_HALF_OPS(f16, ot_f16_to_f32, ot_f32_to_f16)
OT_DEF_HALF_OPS(bf16, ot_bf16_to_f32, ot_f32_to_bf16)

/* bool follows numpy: + is or, * is and, max is or, min is and. */
static void or_b(void *d, const void *s, int64_t n) {
    uint8_t *a = d;
    const uint8_t *b = s;
    for (int64_t i = 0; i < n; i++) a[i] = (a[i] || b[i]);
}
static void and_b(void *d, const void *s, int64_t n) {
    uint8_t *a = d;
    const uint8_t *b = s;
    for (int64_t i = 0; i < n; i++) a[i] = (a[i] && b[i]);
}

ot_combine_fn ot_cpu_combine_fn(ot_dtype dt, ot_scatter_reduce red) {
    if (red == OT_REDUCE_NONE) {
        switch (ot_dtype_size(dt)) {
        case 1: return copy_1;
        case 2: return copy_2;
        case 4: return copy_4;
        case 8: return copy_8;
        case 16: return copy_16;
        default: return NULL;
        }
    }
#define OT_PICK(name)                                                                   \
    return red == OT_REDUCE_ADD ? add_##name : red == OT_REDUCE_MUL ? mul_##name       \
         : red == OT_REDUCE_MAX ? max_##name : min_##name
    switch (dt) {
    case OT_FLOAT: OT_PICK(f32);
    case OT_DOUBLE: OT_PICK(f64);
    case OT_FLOAT16: OT_PICK(f16);
    case OT_BFLOAT16: OT_PICK(bf16);
    case OT_INT8: OT_PICK(i8);
    case OT_UINT8: OT_PICK(u8);
    case OT_INT16: OT_PICK(i16);
    case OT_UINT16: OT_PICK(u16);
    case OT_INT32: OT_PICK(i32);
    case OT_UINT32: OT_PICK(u32);
    case OT_INT64: OT_PICK(i64);
    case OT_UINT64: OT_PICK(u64);
    case OT_BOOL: return (red == OT_REDUCE_ADD || red == OT_REDUCE_MAX) ? or_b : and_b;
    default: return NULL;
    }
#undef OT_PICK
}

/* ---- gathers ----------------------------------------------------------------- */

void ot_cpu_gather(const void *data, size_t esize, int64_t outer, int64_t axis_dim, int64_t inner,
                   const void *idx, bool idx64, int64_t n_idx, void *out) {
    const char *src = data;
    char *dst = out;
    const size_t row = (size_t)inner * esize;
    const int64_t total = outer * n_idx;
    if (total == 0 || row == 0) return;
    if (inner == 1 && esize == 4) { /* scalar lookups (e.g. Gather on a shape vector, axis=-1) */
        const uint32_t *s = data;
        uint32_t *d = out;
#pragma omp parallel for schedule(static) if (total > OT_IDX_PAR_BYTES)
        for (int64_t p = 0; p < total; p++) {
            int64_t o = p / n_idx, i = ot_idx_at(idx, idx64, p - o * n_idx);
            if (i < 0) i += axis_dim;
            d[p] = s[o * axis_dim + i];
        }
        return;
    }
    /* One memcpy per row: along axis 0 this is the embedding lookup, whose rows
       are long enough that the copy, not the index arithmetic, dominates. */
#pragma omp parallel for schedule(static) if ((int64_t)row * total > OT_IDX_PAR_BYTES && total > 1)
    for (int64_t p = 0; p < total; p++) {
        int64_t o = p / n_idx, i = ot_idx_at(idx, idx64, p - o * n_idx);
        if (i < 0) i += axis_dim;
        memcpy(dst + (size_t)p * row, src + (size_t)(o * axis_dim + i) * row, row);
    }
}

static void row_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= dims[d];
    }
}

/* Offset in data (strides dstr) of indices row r's coordinates (all but the
   last dim, the axis coordinate left out). */
static int64_t elements_row_base(int rank, const int64_t *idims, const int64_t *dstr, int axis, int64_t r) {
    int64_t base = 0;
    for (int d = rank - 2; d >= 0; d--) {
        int64_t c = r % idims[d];
        r /= idims[d];
        if (d != axis) base += c * dstr[d];
    }
    return base;
}

static int64_t idx_numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int d = 0; d < rank; d++) n *= dims[d];
    return n;
}

void ot_cpu_gather_elements(const void *data, size_t esize, int rank, const int64_t *ddims,
                            const int64_t *idims, int axis, const void *idx, bool idx64, void *out) {
    int64_t dstr[OT_MAX_RANK];
    row_strides(rank, ddims, dstr);
    const int64_t n = idx_numel(rank, idims), last = idims[rank - 1];
    if (n == 0) return;
    const int64_t rows = n / last, adim = ddims[axis];
    const bool axis_last = axis == rank - 1;
    const char *src = data;
    char *dst = out;
#pragma omp parallel for schedule(static) if (n * (int64_t)esize > OT_IDX_PAR_BYTES && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = elements_row_base(rank, idims, dstr, axis, r);
        for (int64_t j = 0; j < last; j++) {
            int64_t p = r * last + j, i = ot_idx_at(idx, idx64, p);
            if (i < 0) i += adim;
            int64_t off = base + i * dstr[axis] + (axis_last ? 0 : j);
            copy_elem(dst + (size_t)p * esize, src + (size_t)off * esize, esize);
        }
    }
}

void ot_cpu_scatter_elements(void *out, size_t esize, ot_combine_fn combine, int rank, const int64_t *ddims,
                             const int64_t *idims, int axis, const void *idx, bool idx64, const void *updates) {
    int64_t dstr[OT_MAX_RANK];
    row_strides(rank, ddims, dstr);
    const int64_t n = idx_numel(rank, idims), last = idims[rank - 1];
    if (n == 0) return;
    const int64_t rows = n / last, adim = ddims[axis];
    const bool axis_last = axis == rank - 1;
    char *dst = out;
    const char *upd = updates;
    /* Sequential: duplicate indices must combine in a fixed order. */
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = elements_row_base(rank, idims, dstr, axis, r);
        for (int64_t j = 0; j < last; j++) {
            int64_t p = r * last + j, i = ot_idx_at(idx, idx64, p);
            if (i < 0) i += adim;
            int64_t off = base + i * dstr[axis] + (axis_last ? 0 : j);
            combine(dst + (size_t)off * esize, upd + (size_t)p * esize, 1);
        }
    }
}

/* Element offset of index tuple t (k components) in a (kdims..., slice) block. */
static int64_t nd_offset(const void *idx, bool idx64, int64_t t, int k, const int64_t *kdims, int64_t slice) {
    int64_t off = 0;
    for (int j = 0; j < k; j++) {
        int64_t i = ot_idx_at(idx, idx64, t * k + j);
        if (i < 0) i += kdims[j];
        off = off * kdims[j] + i;
    }
    return off * slice;
}

void ot_cpu_gather_nd(const void *data, size_t esize, int64_t batch, int k, const int64_t *kdims, int64_t slice,
                      const void *idx, bool idx64, int64_t n_tuples, void *out) {
    int64_t block = slice; /* elements per batch entry of data */
    for (int j = 0; j < k; j++) block *= kdims[j];
    const int64_t total = batch * n_tuples;
    const size_t row = (size_t)slice * esize;
    if (total == 0 || row == 0) return;
    const char *src = data;
    char *dst = out;
#pragma omp parallel for schedule(static) if ((int64_t)row * total > OT_IDX_PAR_BYTES && total > 1)
    for (int64_t p = 0; p < total; p++) {
        int64_t b = p / n_tuples;
        int64_t off = b * block + nd_offset(idx, idx64, p, k, kdims, slice);
        memcpy(dst + (size_t)p * row, src + (size_t)off * esize, row);
    }
}

void ot_cpu_scatter_nd(void *out, size_t esize, ot_combine_fn combine, int k, const int64_t *kdims, int64_t slice,
                       const void *idx, bool idx64, int64_t n_tuples, const void *updates) {
    char *dst = out;
    const char *upd = updates;
    if (slice == 0) return;
    for (int64_t t = 0; t < n_tuples; t++) {
        int64_t off = nd_offset(idx, idx64, t, k, kdims, slice);
        combine(dst + (size_t)off * esize, upd + (size_t)(t * slice) * esize, slice);
    }
}

/* ---- backward kernels ------------------------------------------------------- */

/* memset(dst, 0, bytes), in parallel for large buffers (embedding tables). */
static void zero_bytes(void *dst, size_t bytes) {
    const int64_t chunks = (int64_t)bytes > 16 * OT_IDX_PAR_BYTES ? omp_get_max_threads() : 1;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        size_t a = (size_t)((int64_t)bytes * c / chunks), e = (size_t)((int64_t)bytes * (c + 1) / chunks);
        memset((char *)dst + a, 0, e - a);
    }
}

/* dx rows += dy rows for the indices of one outer block.  With `own` > 1
   the calling thread only takes destination rows r with r % own == me. */
#define OT_GATHER_GRAD_ROWS(T)                                                           \
    static void gather_grad_rows_##T(T *dx, const T *dy, int64_t axis_dim, int64_t inner, \
                                     const void *idx, bool idx64, int64_t n_idx, int own, int me) { \
        for (int64_t j = 0; j < n_idx; j++) {                                            \
            int64_t r = ot_idx_at(idx, idx64, j);                                        \
            if (r < 0) r += axis_dim;                                                    \
            if (own > 1 && r % own != me) continue;                                      \
            T *d = dx + r * inner;                                                       \
            const T *s = dy + j * inner;                                                 \
            for (int64_t i = 0; i < inner; i++) d[i] += s[i];                            \
        }                                                                                \
    }                                                                                    \
    static void gather_grad_##T(T *dx, const T *dy, int64_t outer, int64_t axis_dim, int64_t inner, \
                                const void *idx, bool idx64, int64_t n_idx) {            \
        const int64_t work = outer * n_idx * inner * (int64_t)sizeof(T);                 \
        const int threads = omp_get_max_threads();                                       \
        zero_bytes(dx, (size_t)(outer * axis_dim * inner) * sizeof(T));                  \
        if (work <= OT_IDX_PAR_BYTES || threads == 1) {                                  \
            for (int64_t o = 0; o < outer; o++)                                          \
                gather_grad_rows_##T(dx + o * axis_dim * inner, dy + o * n_idx * inner, axis_dim, inner, \
                                     idx, idx64, n_idx, 1, 0);                           \
        } else if (outer >= 2 * threads) { /* blocks are disjoint: one per item */       \
            _Pragma("omp parallel for schedule(static)")                                 \
            for (int64_t o = 0; o < outer; o++)                                          \
                gather_grad_rows_##T(dx + o * axis_dim * inner, dy + o * n_idx * inner, axis_dim, inner, \
                                     idx, idx64, n_idx, 1, 0);                           \
        } else { /* embedding: each thread owns the rows r % T == t */                   \
            _Pragma("omp parallel")                                                      \
            {                                                                            \
                int own = omp_get_num_threads(), me = omp_get_thread_num();              \
                for (int64_t o = 0; o < outer; o++)                                      \
                    gather_grad_rows_##T(dx + o * axis_dim * inner, dy + o * n_idx * inner, axis_dim, \
                                         inner, idx, idx64, n_idx, own, me);             \
            }                                                                            \
        }                                                                                \
    }
OT_GATHER_GRAD_ROWS(float)
OT_GATHER_GRAD_ROWS(double)
#undef OT_GATHER_GRAD_ROWS

ot_status ot_cpu_gather_grad(ot_dtype dt, void *dx, int64_t outer, int64_t axis_dim, int64_t inner, const void *idx,
                             bool idx64, int64_t n_idx, const void *dy) {
    if (dt == OT_FLOAT) {
        gather_grad_float(dx, dy, outer, axis_dim, inner, idx, idx64, n_idx);
        return OT_OK;
    }
    if (dt == OT_DOUBLE) {
        gather_grad_double(dx, dy, outer, axis_dim, inner, idx, idx64, n_idx);
        return OT_OK;
    }
    /* float16 / bfloat16: through float32 copies, rounded once at the end. */
    const int64_t ny = outer * n_idx * inner, nx = outer * axis_dim * inner;
    float *fy = ot_workspace_alloc(sizeof(float) * (size_t)ny + 1);
    float *fx = ot_workspace_alloc(sizeof(float) * (size_t)nx + 1);
    if (!fy || !fx) {
        ot_workspace_free(fy);
        ot_workspace_free(fx);
        return ot_error(OT_ERR_NOMEM, "out of memory");
    }
    const uint16_t *hy = dy;
    uint16_t *hx = dx;
    const bool bf = dt == OT_BFLOAT16;
    for (int64_t i = 0; i < ny; i++) fy[i] = bf ? ot_bf16_to_f32(hy[i]) : ot_f16_to_f32(hy[i]);
    gather_grad_float(fx, fy, outer, axis_dim, inner, idx, idx64, n_idx);
    for (int64_t i = 0; i < nx; i++) hx[i] = bf ? ot_f32_to_bf16(fx[i]) : ot_f32_to_f16(fx[i]);
    ot_workspace_free(fy);
    ot_workspace_free(fx);
    return OT_OK;
}

ot_status ot_cpu_scatter_elements_grad(size_t esize, int rank, const int64_t *ddims, const int64_t *idims, int axis,
                                       const void *idx, bool idx64, const void *dy, void *d_data, void *d_updates) {
    int64_t dstr[OT_MAX_RANK];
    row_strides(rank, ddims, dstr);
    const int64_t nd = idx_numel(rank, ddims), n = idx_numel(rank, idims), last = rank ? idims[rank - 1] : 1;
    if (d_data) memcpy(d_data, dy, (size_t)nd * esize);
    if (n == 0) return OT_OK;
    uint8_t *taken = ot_workspace_calloc((size_t)nd + 1, 1);
    if (!taken) return ot_error(OT_ERR_NOMEM, "out of memory");
    const int64_t rows = n / last, adim = ddims[axis];
    const bool axis_last = axis == rank - 1;
    /* Backwards: the first update seen at a position is the one that stayed. */
    for (int64_t r = rows - 1; r >= 0; r--) {
        int64_t base = elements_row_base(rank, idims, dstr, axis, r);
        for (int64_t j = last - 1; j >= 0; j--) {
            int64_t p = r * last + j, i = ot_idx_at(idx, idx64, p);
            if (i < 0) i += adim;
            int64_t off = base + i * dstr[axis] + (axis_last ? 0 : j);
            if (d_updates) {
                char *u = (char *)d_updates + (size_t)p * esize;
                if (taken[off]) memset(u, 0, esize);
                else copy_elem(u, (const char *)dy + (size_t)off * esize, esize);
            }
            if (d_data) memset((char *)d_data + (size_t)off * esize, 0, esize);
            taken[off] = 1;
        }
    }
    ot_workspace_free(taken);
    return OT_OK;
}

ot_status ot_cpu_scatter_nd_grad(size_t esize, int k, const int64_t *kdims, int64_t slice, const void *idx, bool idx64,
                                 int64_t n_tuples, const void *dy, void *d_data, void *d_updates) {
    int64_t n_slices = 1;
    for (int j = 0; j < k; j++) n_slices *= kdims[j];
    const size_t row = (size_t)slice * esize;
    if (d_data) memcpy(d_data, dy, (size_t)n_slices * row);
    if (n_tuples == 0 || row == 0) return OT_OK;
    uint8_t *taken = ot_workspace_calloc((size_t)n_slices + 1, 1);
    if (!taken) return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int64_t t = n_tuples - 1; t >= 0; t--) {
        int64_t s = nd_offset(idx, idx64, t, k, kdims, 1);
        if (d_updates) {
            char *u = (char *)d_updates + (size_t)t * row;
            if (taken[s]) memset(u, 0, row);
            else memcpy(u, (const char *)dy + (size_t)s * row, row);
        }
        if (d_data) memset((char *)d_data + (size_t)s * row, 0, row);
        taken[s] = 1;
    }
    ot_workspace_free(taken);
    return OT_OK;
}

/* ---- Compress, NonZero ---------------------------------------------------- */

void ot_cpu_compress(const void *data, size_t esize, int64_t outer, int64_t axis_dim, int64_t inner,
                     const uint8_t *cond, int64_t cond_len, void *out) {
    const int64_t len = cond_len < axis_dim ? cond_len : axis_dim;
    const size_t row = (size_t)inner * esize;
    const char *src = data;
    char *dst = out;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < len; j++)
            if (cond[j]) {
                memcpy(dst, src + (size_t)(o * axis_dim + j) * row, row);
                dst += row;
            }
}

bool ot_cpu_is_nonzero(ot_dtype dt, const void *data, int64_t i) {
    switch (dt) {
    case OT_FLOAT: return ((const float *)data)[i] != 0.0f;
    case OT_DOUBLE: return ((const double *)data)[i] != 0.0;
    case OT_FLOAT16: /* any bit other than the sign: -0.0 is zero */
    case OT_BFLOAT16: return (((const uint16_t *)data)[i] & 0x7fff) != 0;
    case OT_COMPLEX64: {
        const float *z = (const float *)data + 2 * i;
        return z[0] != 0.0f || z[1] != 0.0f;
    }
    case OT_COMPLEX128: {
        const double *z = (const double *)data + 2 * i;
        return z[0] != 0.0 || z[1] != 0.0;
    }
    default: {
        size_t es = ot_dtype_size(dt);
        const uint8_t *b = (const uint8_t *)data + (size_t)i * es;
        for (size_t k = 0; k < es; k++)
            if (b[k]) return true;
        return false;
    }
    }
}

int64_t ot_cpu_count_nonzero(ot_dtype dt, const void *data, int64_t n) {
    int64_t count = 0;
#pragma omp parallel for schedule(static) reduction(+ : count) if (n > OT_IDX_PAR_BYTES)
    for (int64_t i = 0; i < n; i++) count += ot_cpu_is_nonzero(dt, data, i);
    return count;
}

void ot_cpu_nonzero(ot_dtype dt, const void *data, int rank, const int64_t *dims, int64_t nnz, int64_t *out) {
    const int64_t n = idx_numel(rank, dims);
    int64_t coord[OT_MAX_RANK] = {0};
    int64_t m = 0;
    for (int64_t i = 0; i < n && m < nnz; i++) {
        if (ot_cpu_is_nonzero(dt, data, i)) {
            for (int d = 0; d < rank; d++) out[d * nnz + m] = coord[d];
            m++;
        }
        for (int d = rank - 1; d >= 0; d--) { /* row-major odometer */
            if (++coord[d] < dims[d]) break;
            coord[d] = 0;
        }
    }
}

/* ---- TopK ------------------------------------------------------------------ */

typedef struct topk_item {
    uint64_t key; /* order-preserving image of the value */
    int64_t idx;
} topk_item;

/* Maps a value to a uint64 whose unsigned order is the numeric order: floats
   by their sign-flipped bits (-0 folded onto +0, NaN above +inf), signed ints
   by flipping the sign bit. */
static uint64_t topk_key(ot_dtype dt, const void *x, int64_t i) {
    switch (dt) {
    case OT_FLOAT: case OT_DOUBLE: case OT_FLOAT16: case OT_BFLOAT16: {
        double v = dt == OT_FLOAT ? ((const float *)x)[i]
                 : dt == OT_DOUBLE ? ((const double *)x)[i]
                 : dt == OT_FLOAT16 ? ot_f16_to_f32(((const uint16_t *)x)[i])
                                    : ot_bf16_to_f32(((const uint16_t *)x)[i]);
        if (isnan(v)) return UINT64_MAX;
        if (v == 0) v = 0.0;
        uint64_t b;
        memcpy(&b, &v, 8);
        return (b >> 63) ? ~b : b | ((uint64_t)1 << 63);
    }
    case OT_INT8: return (uint64_t)(int64_t)((const int8_t *)x)[i] ^ ((uint64_t)1 << 63);
    case OT_INT16: return (uint64_t)(int64_t)((const int16_t *)x)[i] ^ ((uint64_t)1 << 63);
    case OT_INT32: return (uint64_t)(int64_t)((const int32_t *)x)[i] ^ ((uint64_t)1 << 63);
    case OT_INT64: return (uint64_t)((const int64_t *)x)[i] ^ ((uint64_t)1 << 63);
    case OT_UINT8: case OT_BOOL: return ((const uint8_t *)x)[i];
    case OT_UINT16: return ((const uint16_t *)x)[i];
    case OT_UINT32: return ((const uint32_t *)x)[i];
    case OT_UINT64: return ((const uint64_t *)x)[i];
    default: return 0;
    }
}

/* a ranks before b: the bigger (or smaller) key, ties to the lower index. */
static inline bool topk_before(const topk_item *a, const topk_item *b, bool largest) {
    if (a->key != b->key) return largest ? a->key > b->key : a->key < b->key;
    return a->idx < b->idx;
}

/* Heap whose root is the item ranked last, so a better candidate replaces it. */
static void topk_sift_down(topk_item *h, int64_t n, int64_t i, bool largest) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && topk_before(&h[w], &h[l], largest)) w = l;
        if (r < n && topk_before(&h[w], &h[r], largest)) w = r;
        if (w == i) return;
        topk_item t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Offers item j (later than every item already held) to the heap of the k best. */
static inline void topk_offer(topk_item *h, int64_t k, int64_t j, uint64_t key, bool largest) {
    if (j < k) {
        h[j] = (topk_item){key, j};
        if (j == k - 1)
            for (int64_t i = k / 2 - 1; i >= 0; i--) topk_sift_down(h, k, i, largest);
    } else if (largest ? key > h[0].key : key < h[0].key) { /* a tie never displaces an earlier index */
        h[0] = (topk_item){key, j};
        topk_sift_down(h, k, 0, largest);
    }
}

/* float32 gets its own scan: the generic key's type switch dominated the loop. */
static inline uint64_t topk_key_f32(float f) {
    if (isnan(f)) return UINT64_MAX;
    if (f == 0) f = 0.0f;
    uint32_t b;
    memcpy(&b, &f, 4);
    return (b >> 31) ? (uint32_t)~b : b | 0x80000000u;
}

static void topk_slice(const char *x, ot_dtype dt, size_t es, int64_t n, int64_t inner, int64_t k, bool largest,
                       topk_item *h, char *values, int64_t *indices) {
    if (dt == OT_FLOAT) {
        const float *xf = (const float *)x;
        for (int64_t j = 0; j < n; j++) topk_offer(h, k, j, topk_key_f32(xf[j * inner]), largest);
    } else {
        for (int64_t j = 0; j < n; j++) topk_offer(h, k, j, topk_key(dt, x, j * inner), largest);
    }
    /* Heap-sort in place: popping the worst item to the end leaves the best first. */
    for (int64_t m = k - 1; m > 0; m--) {
        topk_item t = h[0];
        h[0] = h[m];
        h[m] = t;
        topk_sift_down(h, m, 0, largest);
    }
    for (int64_t m = 0; m < k; m++) {
        indices[m * inner] = h[m].idx;
        copy_elem(values + (size_t)(m * inner) * es, x + (size_t)(h[m].idx * inner) * es, es);
    }
}

ot_status ot_cpu_topk(const void *x, ot_dtype dt, int64_t outer, int64_t n, int64_t inner, int64_t k, bool largest,
                      void *values, int64_t *indices) {
    const int64_t slices = outer * inner;
    if (k == 0 || slices == 0) return OT_OK;
    const size_t es = ot_dtype_size(dt);
    const bool par = slices > 1 && slices * n > OT_IDX_PAR_BYTES;
    const int nt = par ? omp_get_max_threads() : 1;
    topk_item *heaps = ot_workspace_alloc((size_t)nt * (size_t)k * sizeof *heaps);
    if (!heaps) return ot_error(OT_ERR_NOMEM, "TopK: out of memory for %lld candidates", (long long)k);
#pragma omp parallel for schedule(static) if (par) num_threads(nt)
    for (int64_t s = 0; s < slices; s++) {
        int64_t o = s / inner, i = s - o * inner;
        topk_item *h = heaps + (size_t)omp_get_thread_num() * (size_t)k;
        topk_slice((const char *)x + (size_t)(o * n * inner + i) * es, dt, es, n, inner, k, largest, h,
                   (char *)values + (size_t)(o * k * inner + i) * es, indices + o * k * inner + i);
    }
    ot_workspace_free(heaps);
    return OT_OK;
}
