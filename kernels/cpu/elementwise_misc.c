/* Pow, Where, Clip, copy and Dropout kernels. */
#include <string.h>
#include <tgmath.h>

#include "elementwise.h"
#include "elementwise_util.h"

/* ---- Pow ------------------------------------------------------------------- */
bool ot_cpu_pow_supports(ot_dtype base, ot_dtype exponent) {
    bool base_ok = ot_dtype_is_float(base) || base == OT_INT32 || base == OT_INT64;
    return base_ok && (ot_dtype_is_float(exponent) || ot_dtype_is_int(exponent));
}

static void pow_f32(char *const *p, const int64_t *s, int64_t n, const void *ctx) {
    (void)ctx;
    float *o = (float *)p[0];
    const float *a = (const float *)p[1], *b = (const float *)p[2];
    if (s[1] == 4 && s[2] == 0) { /* scalar exponent: the common x^2 needs no libm */
        const float e = b[0];
        if (e == 2.0f) {
            for (int64_t i = 0; i < n; i++) o[i] = a[i] * a[i];
        } else if (e == 1.0f) {
            for (int64_t i = 0; i < n; i++) o[i] = a[i];
        } else {
            for (int64_t i = 0; i < n; i++) o[i] = pow(a[i], e);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++)
        o[i] = pow(*(const float *)(p[1] + i * s[1]), *(const float *)(p[2] + i * s[2]));
}

static void pow_f64(char *const *p, const int64_t *s, int64_t n, const void *ctx) {
    (void)ctx;
    for (int64_t i = 0; i < n; i++)
        *(double *)(p[0] + i * s[0]) = pow(*(const double *)(p[1] + i * s[1]), *(const double *)(p[2] + i * s[2]));
}

/* Integer power with numpy's wrap-around; a negative exponent gives the
   truncated exact value (numpy refuses it). */
static int64_t pow_int(int64_t b, int64_t e, bool e_unsigned) {
    if (!e_unsigned && e < 0) return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, x = (uint64_t)b, k = (uint64_t)e;
    while (k) {
        if (k & 1) r *= x;
        x *= x;
        k >>= 1;
    }
    return (int64_t)r;
}

typedef struct pow_ctx {
    ot_dtype bt, et;
} pow_ctx;

/* Mixed dtypes (numpy promotes them, computes, then casts to the base's
   dtype): float64 arithmetic unless both are integers. */
static void pow_generic(char *const *p, const int64_t *s, int64_t n, const void *ctx) {
    const pow_ctx *c = ctx;
    const bool ints = ot_dtype_is_int(c->bt) && ot_dtype_is_int(c->et);
    for (int64_t i = 0; i < n; i++) {
        void *po = p[0] + i * s[0];
        const void *pa = p[1] + i * s[1], *pb = p[2] + i * s[2];
        if (ints) {
            int64_t r = pow_int(ot_load_i64(c->bt, pa, 0), ot_load_i64(c->et, pb, 0), !ot_dtype_is_signed(c->et));
            ot_store_i64(c->bt, po, 0, r);
        } else {
            double r = pow(ot_load_f64(c->bt, pa, 0), ot_load_f64(c->et, pb, 0));
            if (ot_dtype_is_float(c->bt)) ot_store_f64(c->bt, po, 0, r);
            else ot_store_i64(c->bt, po, 0, ot_ew_d2i64(r));
        }
    }
}

ot_status ot_cpu_pow(const ot_tensor *x, const ot_tensor *y, ot_tensor *z) {
    if (!ot_cpu_pow_supports(x->dtype, y->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "Pow: no kernel for %s ^ %s", ot_dtype_name(x->dtype),
                        ot_dtype_name(y->dtype));
    const ot_tensor *in[2] = {x, y};
    pow_ctx c = {x->dtype, y->dtype};
    ot_bcast_fn fn = pow_generic;
    if (x->dtype == OT_FLOAT && y->dtype == OT_FLOAT) fn = pow_f32;
    else if (x->dtype == OT_DOUBLE && y->dtype == OT_DOUBLE) fn = pow_f64;
    return ot_bcast_tensors(z, 2, in, fn, &c, OT_GRAIN_COSTLY);
}

/* ---- Where: selected by element width, so every dtype works ------------------ */
#define WHERE_FN(T)                                                                       \
    static void where_##T(char *const *p, const int64_t *s, int64_t n, const void *ctx) { \
        (void)ctx;                                                                        \
        const int64_t w = (int64_t)sizeof(T);                                             \
        if (s[0] == w && s[1] == 1 && s[2] == w && s[3] == w) {                           \
            T *o = (T *)p[0];                                                             \
            const uint8_t *c = (const uint8_t *)p[1];                                     \
            const T *a = (const T *)p[2], *b = (const T *)p[3];                           \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? a[i] : b[i];                    \
            return;                                                                       \
        }                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                   \
            *(T *)(p[0] + i * s[0]) =                                                     \
                *(const uint8_t *)(p[1] + i * s[1]) ? *(const T *)(p[2] + i * s[2])      \
                                                     : *(const T *)(p[3] + i * s[3]);    \
    }
WHERE_FN(uint8_t)
WHERE_FN(uint16_t)
WHERE_FN(uint32_t)
WHERE_FN(uint64_t)

ot_status ot_cpu_where(const ot_tensor *cond, const ot_tensor *x, const ot_tensor *y, ot_tensor *out) {
    ot_bcast_fn fn;
    switch (ot_dtype_size(x->dtype)) {
    case 1: fn = where_uint8_t; break;
    case 2: fn = where_uint16_t; break;
    case 4: fn = where_uint32_t; break;
    case 8: fn = where_uint64_t; break;
    default: return ot_error(OT_ERR_UNSUPPORTED, "Where: no kernel for %s", ot_dtype_name(x->dtype));
    }
    if (x->dtype == OT_COMPLEX64) return ot_error(OT_ERR_UNSUPPORTED, "Where: no kernel for complex64");
    const ot_tensor *in[3] = {cond, x, y};
    return ot_bcast_tensors(out, 3, in, fn, NULL, OT_GRAIN_CHEAP);
}

/* ---- Clip ------------------------------------------------------------------ */
typedef struct clip_job {
    const ot_tensor *x, *lo, *hi;
    ot_tensor *y;
} clip_job;

/* np.clip: max(x, lo) then min(., hi), so lo > hi gives hi and NaN stays. */
#define CLIP_BODY(TS, CT, LD, ST)                                              \
    {                                                                          \
        const TS *x = j->x->data;                                              \
        TS *y = j->y->data;                                                    \
        const bool hl = j->lo != NULL, hh = j->hi != NULL;                     \
        const CT l = hl ? LD(*(const TS *)j->lo->data) : 0;                    \
        const CT h = hh ? LD(*(const TS *)j->hi->data) : 0;                    \
        for (int64_t i = b; i < e; i++) {                                      \
            CT v = LD(x[i]);                                                   \
            if (hl && v < l) v = l;                                            \
            if (hh && v > h) v = h;                                            \
            y[i] = ST(v);                                                      \
        }                                                                      \
        return;                                                                \
    }
static void clip_range(int64_t b, int64_t e, const void *ctx) {
    const clip_job *j = ctx;
    switch (j->x->dtype) {
#define CLIP_CASE_F(E, NM, TS, CT, LD, ST) \
    case E: CLIP_BODY(TS, CT, LD, ST)
#define CLIP_CASE_I(E, NM, T, U) \
    case E: CLIP_BODY(T, T, OT_EW_ID, OT_EW_ID)
        OT_EW_FLOAT_TYPES(CLIP_CASE_F)
        OT_EW_SINT_TYPES(CLIP_CASE_I)
        OT_EW_UINT_TYPES(CLIP_CASE_I)
    default: return;
    }
}

ot_status ot_cpu_clip(const ot_tensor *x, const ot_tensor *lo, const ot_tensor *hi, ot_tensor *y) {
    if (!ot_dtype_is_float(x->dtype) && !ot_dtype_is_int(x->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "Clip: no kernel for %s", ot_dtype_name(x->dtype));
    if ((lo && (lo->dtype != x->dtype || ot_tensor_numel(lo) != 1)) ||
        (hi && (hi->dtype != x->dtype || ot_tensor_numel(hi) != 1)))
        return ot_error(OT_ERR_SHAPE, "Clip: min and max must be one-element tensors of the input's type");
    clip_job j = {x, lo, hi, y};
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_CHEAP, clip_range, &j);
    return OT_OK;
}

void ot_cpu_copy(const ot_tensor *x, ot_tensor *y) {
    size_t n = ot_tensor_nbytes(x);
    if (n && x->data != y->data) memcpy(y->data, x->data, n);
}

/* ---- Dropout ---------------------------------------------------------------- */
typedef struct drop_job {
    const ot_tensor *x;
    ot_tensor *y, *mask;
    double ratio, scale;
    const ot_rng *rng;
} drop_job;

enum { DROP_BUF = 256 };

static void drop_store_mask(ot_tensor *m, int64_t i, bool keep) {
    if (m->dtype == OT_BOOL) ((uint8_t *)m->data)[i] = keep;
    else ot_store_f64(m->dtype, m->data, i, keep ? 1.0 : 0.0);
}

static void drop_range(int64_t b, int64_t e, const void *ctx) {
    const drop_job *j = ctx;
    float u[DROP_BUF];
    const float ratio = (float)j->ratio;
    const float scale32 = (float)j->scale;
    for (int64_t s = b; s < e; s += DROP_BUF) {
        const int64_t m = e - s < DROP_BUF ? e - s : DROP_BUF;
        ot_rng_fill_uniform(j->rng, (uint64_t)s, m, u);
        for (int64_t k = 0; k < m; k++) {
            const int64_t i = s + k;
            const bool keep = u[k] >= ratio;
            switch (j->x->dtype) {
            case OT_FLOAT: ((float *)j->y->data)[i] = keep ? ((const float *)j->x->data)[i] * scale32 : 0.0f; break;
            case OT_DOUBLE: ((double *)j->y->data)[i] = keep ? ((const double *)j->x->data)[i] * j->scale : 0.0; break;
            default: ot_store_f64(j->x->dtype, j->y->data, i, keep ? ot_load_f64(j->x->dtype, j->x->data, i) * scale32 : 0.0);
            }
            if (j->mask) drop_store_mask(j->mask, i, keep);
        }
    }
}

ot_status ot_cpu_dropout(const ot_tensor *x, double ratio, bool train, const ot_rng *rng, ot_tensor *y,
                         ot_tensor *mask) {
    if (!ot_dtype_is_float(x->dtype))
        return ot_error(OT_ERR_UNSUPPORTED, "Dropout: no kernel for %s", ot_dtype_name(x->dtype));
    const int64_t n = ot_tensor_numel(x);
    if (!train || ratio == 0.0) {
        ot_cpu_copy(x, y);
        if (mask) {
            if (mask->dtype == OT_BOOL) memset(mask->data, 1, (size_t)n);
            else
                for (int64_t i = 0; i < n; i++) ot_store_f64(mask->dtype, mask->data, i, 1.0);
        }
        return OT_OK;
    }
    drop_job j = {x, y, mask, ratio, ratio < 1.0 ? 1.0 / (1.0 - ratio) : 0.0, rng};
    ot_parallel_range(n, OT_GRAIN_COSTLY, drop_range, &j);
    return OT_OK;
}
