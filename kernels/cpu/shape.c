/* Byte-moving loops for the shape family (see shape.h). */
#include "shape.h"

#include <omp.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/runtime/workspace.h"
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

/* Below this many bytes a copy is not worth waking the thread pool. */
#define OT_K_PAR_BYTES ((int64_t)1 << 17)
/* Edge of the square tiles of the transposed path: 32 x 32 elements of up to
   8 bytes keep both the read and the written tile in L1. */
#define OT_K_TILE 32

typedef struct {
    int rank;
    int64_t dims[OT_K_COPY_MAX_RANK];
    int64_t ds[OT_K_COPY_MAX_RANK]; /* dst strides (elements) */
    int64_t ss[OT_K_COPY_MAX_RANK]; /* src strides (elements) */
} ot_kbox;

/* Drops unit dims and merges a dim into its outer neighbour wherever both
   buffers are contiguous across the pair, so most copies end as a few long
   rows (one memcpy each). */
static void ot_kbox_coalesce(ot_kbox *b) {
    int n = 0;
    for (int k = 0; k < b->rank; k++) {
        int64_t d = b->dims[k];
        if (d == 1) continue;
        if (n > 0 && b->ds[n - 1] == b->ds[k] * d && b->ss[n - 1] == b->ss[k] * d) {
            b->dims[n - 1] *= d;
            b->ds[n - 1] = b->ds[k];
            b->ss[n - 1] = b->ss[k];
        } else {
            b->dims[n] = d;
            b->ds[n] = b->ds[k];
            b->ss[n] = b->ss[k];
            n++;
        }
    }
    b->rank = n;
}

/* One row of `len` elements with element strides dstep / sstep. */
static void ot_k_row(char *dst, int64_t dstep, const char *src, int64_t sstep, int64_t len, size_t esize) {
    if (dstep == 1 && sstep == 1) {
        memcpy(dst, src, (size_t)len * esize);
        return;
    }
#define OT_K_ROW(T)                                                     \
    do {                                                                \
        T *d_ = (T *)(void *)dst;                                       \
        const T *s_ = (const T *)(const void *)src;                     \
        for (int64_t i = 0; i < len; i++) d_[i * dstep] = s_[i * sstep]; \
    } while (0)
    switch (esize) {
    case 1: OT_K_ROW(uint8_t); break;
    case 2: OT_K_ROW(uint16_t); break;
    case 4: OT_K_ROW(uint32_t); break;
    case 8: OT_K_ROW(uint64_t); break;
    default:
        for (int64_t i = 0; i < len; i++)
            memcpy(dst + i * dstep * (int64_t)esize, src + i * sstep * (int64_t)esize, esize);
    }
#undef OT_K_ROW
}

/* Element offsets of outer index `o` over dims[0..r). */
static void ot_k_offsets(const ot_kbox *b, int r, int64_t o, int64_t *idx, int64_t *od, int64_t *os) {
    *od = 0;
    *os = 0;
    for (int k = r - 1; k >= 0; k--) {
        idx[k] = o % b->dims[k];
        o /= b->dims[k];
        *od += idx[k] * b->ds[k];
        *os += idx[k] * b->ss[k];
    }
}

/* Rows [r0, r1) of the outer index space dims[0..r): one row is the innermost dim. */
static void ot_k_rows(char *dst, const char *src, const ot_kbox *b, int64_t r0, int64_t r1, size_t esize) {
    int r = b->rank - 1;
    int64_t idx[OT_K_COPY_MAX_RANK], od, os;
    int64_t es = (int64_t)esize;
    ot_k_offsets(b, r, r0, idx, &od, &os);
    for (int64_t row = r0; row < r1; row++) {
        ot_k_row(dst + od * es, b->ds[r], src + os * es, b->ss[r], b->dims[r], esize);
        for (int k = r - 1; k >= 0; k--) { /* odometer step */
            od += b->ds[k];
            os += b->ss[k];
            if (++idx[k] < b->dims[k]) break;
            od -= b->ds[k] * b->dims[k];
            os -= b->ss[k] * b->dims[k];
            idx[k] = 0;
        }
    }
}

#ifdef __SSE2__
/* 4-byte tile in 4 x 4 register blocks: four loads along i, a register
   transpose, four stores along j (3-4x the scalar loop's speed). */
static void ot_k_tile4_sse(char *dst, int64_t da, const char *src, int64_t sb, int64_t ni, int64_t nj) {
    float *d = (float *)(void *)dst;
    const float *s = (const float *)(const void *)src;
    int64_t i4 = ni & ~(int64_t)3, j4 = nj & ~(int64_t)3;
    for (int64_t i = 0; i < i4; i += 4) {
        for (int64_t j = 0; j < j4; j += 4) {
            __m128 r0 = _mm_loadu_ps(s + i + (j + 0) * sb), r1 = _mm_loadu_ps(s + i + (j + 1) * sb);
            __m128 r2 = _mm_loadu_ps(s + i + (j + 2) * sb), r3 = _mm_loadu_ps(s + i + (j + 3) * sb);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(d + (i + 0) * da + j, r0);
            _mm_storeu_ps(d + (i + 1) * da + j, r1);
            _mm_storeu_ps(d + (i + 2) * da + j, r2);
            _mm_storeu_ps(d + (i + 3) * da + j, r3);
        }
        for (int64_t ii = i; ii < i + 4; ii++)
            for (int64_t j = j4; j < nj; j++) d[ii * da + j] = s[ii + j * sb];
    }
    for (int64_t i = i4; i < ni; i++)
        for (int64_t j = 0; j < nj; j++) d[i * da + j] = s[i + j * sb];
}
#endif

/* A tile: dst[i*da + j] = src[i + j*sb] for i < ni, j < nj. */
static void ot_k_tile(char *dst, int64_t da, const char *src, int64_t sb, int64_t ni, int64_t nj, size_t esize) {
#define OT_K_TILE_T(T)                                                     \
    do {                                                                   \
        T *d_ = (T *)(void *)dst;                                          \
        const T *s_ = (const T *)(const void *)src;                        \
        for (int64_t i = 0; i < ni; i++)                                   \
            for (int64_t j = 0; j < nj; j++) d_[i * da + j] = s_[i + j * sb]; \
    } while (0)
    switch (esize) {
    case 1: OT_K_TILE_T(uint8_t); break;
    case 2: OT_K_TILE_T(uint16_t); break;
    case 4:
#ifdef __SSE2__
        if (ni >= 4 && nj >= 4) {
            ot_k_tile4_sse(dst, da, src, sb, ni, nj);
            break;
        }
#endif
        OT_K_TILE_T(uint32_t);
        break;
    case 8: OT_K_TILE_T(uint64_t); break;
    default:
        for (int64_t i = 0; i < ni; i++)
            for (int64_t j = 0; j < nj; j++)
                memcpy(dst + (i * da + j) * (int64_t)esize, src + (i + j * sb) * (int64_t)esize, esize);
    }
#undef OT_K_TILE_T
}

/* The innermost two dims (A, B) are a transposition: dst strides (da, 1), src
   strides (1, sb).  Work items are (outer index, band of OT_K_TILE rows of A). */
static void ot_k_transposed(char *dst, const char *src, const ot_kbox *b, size_t esize, int par) {
    int r = b->rank - 2;
    int64_t A = b->dims[r], B = b->dims[r + 1], da = b->ds[r], sb = b->ss[r + 1];
    int64_t outer = 1;
    for (int k = 0; k < r; k++) outer *= b->dims[k];
    int64_t bands = (A + OT_K_TILE - 1) / OT_K_TILE;
    int64_t es = (int64_t)esize;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t item = 0; item < outer * bands; item++) {
        int64_t idx[OT_K_COPY_MAX_RANK], od, os;
        ot_k_offsets(b, r, item / bands, idx, &od, &os);
        int64_t i0 = (item % bands) * OT_K_TILE;
        int64_t ni = A - i0 < OT_K_TILE ? A - i0 : OT_K_TILE;
        for (int64_t j0 = 0; j0 < B; j0 += OT_K_TILE) {
            int64_t nj = B - j0 < OT_K_TILE ? B - j0 : OT_K_TILE;
            ot_k_tile(dst + (od + i0 * da + j0) * es, da, src + (os + i0 + j0 * sb) * es, sb, ni, nj, esize);
        }
    }
}

void ot_k_copy_strided(void *dst, const int64_t *dst_strides, const void *src, const int64_t *src_strides,
                       int rank, const int64_t *dims, size_t esize) {
    ot_kbox b;
    int64_t numel = 1;
    b.rank = rank;
    for (int k = 0; k < rank; k++) {
        b.dims[k] = dims[k];
        b.ds[k] = dst_strides[k];
        b.ss[k] = src_strides[k];
        numel *= dims[k];
    }
    if (numel == 0) return;
    ot_kbox_coalesce(&b);
    if (b.rank == 0) {
        memcpy(dst, src, esize);
        return;
    }
    int par = numel * (int64_t)esize >= OT_K_PAR_BYTES;
    int n = b.rank;
    if (n >= 3 && b.ds[n - 1] == 1 && b.ss[n - 1] != 1 && b.ss[n - 2] != 1) {
        /* The source's contiguous dim is further out (e.g. perm (2, 0, 1)):
           move it next to the innermost one; outer dims may go in any order. */
        for (int p = 0; p < n - 2; p++)
            if (b.ss[p] == 1) {
                int64_t d = b.dims[p], dd = b.ds[p];
                for (int k = p; k < n - 2; k++) {
                    b.dims[k] = b.dims[k + 1];
                    b.ds[k] = b.ds[k + 1];
                    b.ss[k] = b.ss[k + 1];
                }
                b.dims[n - 2] = d;
                b.ds[n - 2] = dd;
                b.ss[n - 2] = 1;
                break;
            }
    }
    if (n >= 2 && b.ds[n - 1] == 1 && b.ss[n - 1] != 1 && b.ss[n - 2] == 1 && b.dims[n - 1] >= 4 &&
        b.dims[n - 2] >= 4) {
        ot_k_transposed(dst, src, &b, esize, par);
        return;
    }
    if (n == 1 && b.ds[0] == 1 && b.ss[0] == 1) {
        ot_k_copy_bytes(dst, src, (size_t)numel * esize);
        return;
    }
    int64_t rows = numel / b.dims[n - 1];
    if (!par || rows == 1) {
        ot_k_rows(dst, src, &b, 0, rows, esize);
        return;
    }
    int64_t chunks = (int64_t)omp_get_max_threads() * 4;
    if (chunks > rows) chunks = rows;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) ot_k_rows(dst, src, &b, rows * c / chunks, rows * (c + 1) / chunks, esize);
}

void ot_k_copy_bytes(void *dst, const void *src, size_t bytes) {
    if (dst == src || bytes == 0) return;
    if ((int64_t)bytes < 4 * OT_K_PAR_BYTES) {
        memcpy(dst, src, bytes);
        return;
    }
    int64_t chunks = omp_get_max_threads();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        size_t a = (size_t)((int64_t)bytes * c / chunks), e = (size_t)((int64_t)bytes * (c + 1) / chunks);
        memcpy((char *)dst + a, (const char *)src + a, e - a);
    }
}

static int ot_k_all_zero(const void *value, size_t esize) {
    const unsigned char *v = value;
    for (size_t i = 0; i < esize; i++)
        if (v[i]) return 0;
    return 1;
}

void ot_k_fill(void *dst, int64_t n, const void *value, size_t esize) {
    if (n <= 0) return;
    int par = n * (int64_t)esize >= OT_K_PAR_BYTES;
    if (esize == 1 || ot_k_all_zero(value, esize)) {
        unsigned char byte = *(const unsigned char *)value;
        if (!par) {
            memset(dst, byte, (size_t)n * esize);
            return;
        }
        int64_t bytes = n * (int64_t)esize, chunks = omp_get_max_threads();
#pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < chunks; c++)
            memset((char *)dst + bytes * c / chunks, byte, (size_t)(bytes * (c + 1) / chunks - bytes * c / chunks));
        return;
    }
#define OT_K_FILL(T)                                                    \
    do {                                                                \
        T v_;                                                           \
        memcpy(&v_, value, sizeof v_);                                  \
        T *d_ = dst;                                                    \
        _Pragma("omp parallel for schedule(static) if (par)")           \
        for (int64_t i = 0; i < n; i++) d_[i] = v_;                     \
    } while (0)
    switch (esize) {
    case 2: OT_K_FILL(uint16_t); break;
    case 4: OT_K_FILL(uint32_t); break;
    case 8: OT_K_FILL(uint64_t); break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy((char *)dst + i * (int64_t)esize, value, esize);
    }
#undef OT_K_FILL
}

/* Source index in [0, n) of padded position i (i < 0 or i >= n), n > 0. */
static int64_t ot_k_pad_map(int64_t i, int64_t n, ot_k_pad_mode mode) {
    switch (mode) {
    case OT_K_PAD_EDGE: return i < 0 ? 0 : n - 1;
    case OT_K_PAD_WRAP: return ((i % n) + n) % n;
    case OT_K_PAD_REFLECT: {
        if (n == 1) return 0;
        int64_t period = 2 * (n - 1); /* numpy's reflect: mirror about the edge elements, repeatedly */
        i = ((i % period) + period) % period;
        return i < n ? i : period - i;
    }
    default: return 0;
    }
}

void ot_k_pad(void *dst, const int64_t *out_dims, const void *src, const int64_t *src_strides,
              const int64_t *in_dims, const int64_t *begin, int rank, ot_k_pad_mode mode, const void *value,
              size_t esize) {
    int64_t os[OT_K_COPY_MAX_RANK] = {0}, numel = 1, off = 0;
    int64_t es = (int64_t)esize;
    int64_t s = 1;
    for (int k = rank - 1; k >= 0; k--) {
        os[k] = s;
        s *= out_dims[k];
    }
    for (int k = 0; k < rank; k++) {
        numel *= out_dims[k];
        off += begin[k] * os[k];
    }
    if (numel == 0) return;
    if (mode == OT_K_PAD_CONSTANT) ot_k_fill(dst, numel, value, esize);
    ot_k_copy_strided((char *)dst + off * es, os, src, src_strides, rank, in_dims, esize);
    if (mode == OT_K_PAD_CONSTANT) return;
    /* Axis by axis, each padded slab is a copy of an interior slab of dst.  The
       slab spans whole extents of the axes already done and the data extents
       of the others, so every source slab has been written before it is read. */
    for (int d = 0; d < rank; d++) {
        if (out_dims[d] == in_dims[d]) continue;
        int64_t slab[OT_K_COPY_MAX_RANK], base = 0;
        for (int k = 0; k < rank; k++) {
            slab[k] = k < d ? out_dims[k] : k == d ? 1 : in_dims[k];
            if (k > d) base += begin[k] * os[k];
        }
        for (int64_t p = 0; p < out_dims[d]; p++) {
            int64_t i = p - begin[d];
            if (i >= 0 && i < in_dims[d]) continue;
            int64_t q = begin[d] + ot_k_pad_map(i, in_dims[d], mode);
            ot_k_copy_strided((char *)dst + (base + p * os[d]) * es, os, (const char *)dst + (base + q * os[d]) * es,
                              os, rank, slab, esize);
        }
    }
}

/* dst (outer, n_in, inner) += src (outer, n_out, inner) gathered along the
   middle axis by map (n_out entries in [0, n_in)).  Work items are (outer
   index, column band), so no two threads write the same element. */
#define OT_K_PAD_GRAD_AXIS(T)                                                                   \
    do {                                                                                        \
        T *d_ = dst;                                                                            \
        const T *s_ = src;                                                                      \
        _Pragma("omp parallel for schedule(static) if (par)")                                   \
        for (int64_t it = 0; it < outer * bands; it++) {                                        \
            int64_t o = it / bands, i0 = (it % bands) * band, i1 = i0 + band < inner ? i0 + band : inner; \
            for (int64_t j = 0; j < n_out; j++) {                                               \
                T *dr = d_ + (o * n_in + map[j]) * inner;                                       \
                const T *sr = s_ + (o * n_out + j) * inner;                                     \
                for (int64_t i = i0; i < i1; i++) dr[i] += sr[i];                               \
            }                                                                                   \
        }                                                                                       \
    } while (0)

static void ot_k_pad_grad_axis(void *dst, const void *src, int64_t outer, int64_t n_in, int64_t n_out, int64_t inner,
                               const int64_t *map, int is_double) {
    int64_t es = is_double ? 8 : 4, total = outer * n_out * inner;
    int par = total * es >= OT_K_PAR_BYTES;
    /* Few outer rows (padding an outer axis): split the rows into bands too. */
    int64_t threads = omp_get_max_threads(), band = inner;
    if (par && outer < 4 * threads && inner >= 512) {
        band = (inner * outer + 4 * threads - 1) / (4 * threads);
        if (band < 256) band = 256;
    }
    int64_t bands = inner ? (inner + band - 1) / band : 0;
    memset(dst, 0, (size_t)(outer * n_in * inner * es));
    if (is_double) OT_K_PAD_GRAD_AXIS(double);
    else OT_K_PAD_GRAD_AXIS(float);
}
#undef OT_K_PAD_GRAD_AXIS

int ot_k_pad_grad(void *dx, const int64_t *x_dims, const void *dy, const int64_t *y_dims, const int64_t *begin,
                  const int64_t *end, int rank, ot_k_pad_mode mode, int is_double) {
    int64_t cur_dims[OT_K_COPY_MAX_RANK], es = is_double ? 8 : 4, numel = 1;
    int last = -1;
    for (int k = 0; k < rank; k++) {
        cur_dims[k] = y_dims[k];
        numel *= y_dims[k];
        if (begin[k] || end[k]) last = k;
    }
    if (last < 0) { /* nothing padded: dx = dy */
        ot_k_copy_bytes(dx, dy, (size_t)(numel * es));
        return 0;
    }
    const void *cur = dy;
    void *owned = NULL;
    for (int k = 0; k <= last; k++) {
        if (!begin[k] && !end[k]) continue;
        int64_t n_in = x_dims[k], n_out = y_dims[k], outer = 1, inner = 1;
        for (int q = 0; q < k; q++) outer *= cur_dims[q];
        for (int q = k + 1; q < rank; q++) inner *= cur_dims[q];
        int64_t crop_b = begin[k] < 0 ? -begin[k] : 0, crop_e = end[k] < 0 ? -end[k] : 0;
        int64_t kept = n_in - crop_b - crop_e, pb = begin[k] > 0 ? begin[k] : 0;
        int64_t *map = ot_workspace_alloc(sizeof(int64_t) * (size_t)(n_out + 1));
        void *next = k == last ? dx : ot_workspace_alloc((size_t)(outer * n_in * inner * es) + 1);
        if (!map || !next) {
            ot_workspace_free(map);
            if (next != dx) ot_workspace_free(next);
            ot_workspace_free(owned);
            return -1;
        }
        for (int64_t j = 0; j < n_out; j++) {
            int64_t i = j - pb;
            map[j] = crop_b + (i >= 0 && i < kept ? i : ot_k_pad_map(i, kept, mode));
        }
        ot_k_pad_grad_axis(next, cur, outer, n_in, n_out, inner, map, is_double);
        ot_workspace_free(map);
        ot_workspace_free(owned);
        owned = next == dx ? NULL : next;
        cur = next;
        cur_dims[k] = n_in;
    }
    return 0;
}

void ot_k_trilu(void *dst, const void *src, int64_t batch, int64_t n, int64_t m, int64_t k, int upper,
                size_t esize) {
    /* Beyond these bounds every row keeps all or nothing; clamping keeps i + k
       from overflowing. */
    if (k > m + 1) k = m + 1;
    if (k < -n - 1) k = -n - 1;
    int64_t es = (int64_t)esize;
    int par = batch * n * m * es >= OT_K_PAR_BYTES;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t row = 0; row < batch * n; row++) {
        int64_t i = row % n;
        char *d = (char *)dst + row * m * es;
        const char *s = (const char *)src + row * m * es;
        /* kept columns [lo, hi) */
        int64_t lo = upper ? i + k : 0, hi = upper ? m : i + k + 1;
        if (lo < 0) lo = 0;
        if (hi > m) hi = m;
        if (hi < lo) hi = lo;
        if (lo > m) lo = hi = m;
        memset(d, 0, (size_t)(lo * es));
        if (d != s) memcpy(d + lo * es, s + lo * es, (size_t)((hi - lo) * es));
        memset(d + hi * es, 0, (size_t)((m - hi) * es));
    }
}
