/* Quantization kernels (see quant.h).  The per-element scale lookup covers
 * the three layouts of QuantizeLinear/DequantizeLinear; loads go through
 * ot_load_f64 except on the float32 -> 8-bit path, which is the common one. */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "broadcast.h"
#include "../../src/core/dtype.h"
#include "../../src/core/half.h"
#include "../../src/core/lowprec.h"

static inline int64_t scale_index(const ot_quant_layout *l, int64_t i) {
    if (l->per_tensor) return 0;
    const int64_t a = (i / l->inner) % l->axis_len;
    if (!l->block) return a;
    const int64_t o = i / (l->axis_len * l->inner), in = i % l->inner;
    const int64_t nb = (l->axis_len + l->block - 1) / l->block;
    return (o * nb + a / l->block) * l->inner + in;
}

/* v rounded to dtype p as numpy would store an intermediate of that type. */
static inline double round_to(ot_dtype p, double v) {
    switch (p) {
    case OT_FLOAT: return (float)v;
    case OT_FLOAT16: return ot_f16_to_f32(ot_f32_to_f16((float)v));
    case OT_BFLOAT16: return ot_bf16_to_f32(ot_f32_to_bf16((float)v));
    default: return v;
    }
}

typedef struct q_job {
    const ot_tensor *x, *scale, *zp;
    const ot_quant_layout *l;
    ot_dtype prec;
    bool saturate;
    ot_tensor *y;
    int64_t lo, hi; /* integer outputs */
} q_job;

static void quantize_range(int64_t b, int64_t e, const void *ctx) {
    const q_job *j = ctx;
    const ot_dtype xt = j->x->dtype, st = j->scale->dtype, yt = j->y->dtype;
    const bool yint = ot_dtype_is_int(yt) || ot_dtype_is_lowprec_int(yt);
    const bool fast = xt == OT_FLOAT && st == OT_FLOAT && (yt == OT_UINT8 || yt == OT_INT8) && j->prec == OT_FLOAT;
    for (int64_t i = b; i < e; i++) {
        const int64_t si = scale_index(j->l, i);
        double q;
        if (fast) {
            q = ((const float *)j->x->data)[i] / ((const float *)j->scale->data)[si]; /* float32 division */
        } else {
            q = round_to(j->prec, ot_load_f64(xt, j->x->data, i) / ot_load_f64(st, j->scale->data, si));
        }
        if (yint) {
            const int64_t z = j->zp ? ot_load_i64(j->zp->dtype, j->zp->data, si) : 0;
            double r = nearbyint(q) + (double)z; /* ties to even */
            int64_t v = r != r ? j->lo : r <= (double)j->lo ? j->lo : r >= (double)j->hi ? j->hi : (int64_t)r;
            if (fast) {
                ((uint8_t *)j->y->data)[i] = (uint8_t)v;
            } else {
                ot_store_i64(yt, j->y->data, i, v);
            }
        } else if ((int)yt == OT_FLOAT4E2M1) { /* the zero point is a value added before encoding */
            double z = j->zp ? ot_lowprec_decode(j->zp->dtype, ((const uint8_t *)j->zp->data)[si]) : 0.0;
            ((uint8_t *)j->y->data)[i] = ot_lowprec_encode(yt, round_to(j->prec, q + z), true, OT_ROUND_UP);
        } else { /* float8: the zero point is zero by the spec */
            ((uint8_t *)j->y->data)[i] = ot_lowprec_encode(yt, q, j->saturate, OT_ROUND_UP);
        }
    }
}

ot_status ot_cpu_quantize(const ot_tensor *x, const ot_tensor *scale, const ot_tensor *zp, const ot_quant_layout *l,
                          ot_dtype prec, bool saturate, ot_tensor *y) {
    q_job j = {x, scale, zp, l, prec, saturate, y, 0, 0};
    ot_lowprec_int_range(y->dtype, &j.lo, &j.hi);
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_COSTLY, quantize_range, &j);
    return OT_OK;
}

static void dequantize_range(int64_t b, int64_t e, const void *ctx) {
    const q_job *j = ctx;
    const ot_dtype xt = j->x->dtype, st = j->scale->dtype, yt = j->y->dtype;
    const bool xfloat = ot_dtype_is_lowprec_float(xt);
    double tab[256];
    if (xfloat)
        for (int k = 0; k < 256; k++) tab[k] = ot_lowprec_decode(xt, (uint8_t)k);
    for (int64_t i = b; i < e; i++) {
        const int64_t si = scale_index(j->l, i);
        double dx;
        if (xfloat) {
            dx = tab[((const uint8_t *)j->x->data)[i]];
        } else {
            const int64_t z = j->zp ? ot_load_i64(j->zp->dtype, j->zp->data, si) : 0;
            const int64_t xi = ot_load_i64(xt, j->x->data, i);
            /* the reference takes x to float32 first: exact below 2^24 */
            dx = xt == OT_INT32 ? (double)(float)xi - (double)z : (double)(xi - z);
        }
        double v = dx * ot_load_f64(st, j->scale->data, si);
        if (xt != OT_INT32) v = (float)v; /* a float32 product, as numpy forms it */
        if (yt == OT_FLOAT) ((float *)j->y->data)[i] = (float)v;
        else ot_store_f64(yt, j->y->data, i, v);
    }
}

ot_status ot_cpu_dequantize(const ot_tensor *x, const ot_tensor *scale, const ot_tensor *zp, const ot_quant_layout *l,
                            ot_tensor *y) {
    q_job j = {x, scale, zp, l, OT_FLOAT, true, y, 0, 0};
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_COSTLY, dequantize_range, &j);
    return OT_OK;
}

void ot_cpu_dynamic_quantize(const ot_tensor *x, ot_tensor *y, ot_tensor *y_scale, ot_tensor *y_zp) {
    const float *xd = x->data;
    const int64_t n = ot_tensor_numel(x);
    float mx = 0.0f, mn = 0.0f; /* the range always includes 0 */
    for (int64_t i = 0; i < n; i++) {
        if (xd[i] > mx) mx = xd[i];
        if (xd[i] < mn) mn = xd[i];
    }
    const float scale = (mx == mn ? 1.0f : mx - mn) / 255.0f;
    float zp = 0.0f - mn / scale;
    zp = zp < 0.0f ? 0.0f : zp > 255.0f ? 255.0f : zp;
    const float zpi = nearbyintf(zp);
    uint8_t *yd = y->data;
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        float v = nearbyintf(xd[i] / scale) + zpi;
        yd[i] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
    }
    *(float *)y_scale->data = scale;
    *(uint8_t *)y_zp->data = (uint8_t)zpi;
}

void ot_cpu_requantize(const int32_t *acc, const double *mul, int64_t n_mul, int64_t inner, double y_zp, ot_tensor *y) {
    int64_t lo, hi;
    ot_lowprec_int_range(y->dtype, &lo, &hi);
    const int64_t n = ot_tensor_numel(y);
    const bool u8 = y->dtype == OT_UINT8;
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        double r = nearbyint((double)acc[i] * mul[n_mul == 1 ? 0 : (i / inner) % n_mul] + y_zp);
        r = r < (double)lo ? (double)lo : r > (double)hi ? (double)hi : r;
        if (u8) ((uint8_t *)y->data)[i] = (uint8_t)r;
        else ((int8_t *)y->data)[i] = (int8_t)r;
    }
}

void ot_cpu_qmatmul_acc(const ot_tensor *a, int64_t a_zp, const ot_tensor *b, const int64_t *b_zp, int64_t n_bzp,
                        int64_t batch, int64_t batch_a, int64_t batch_b, int64_t M, int64_t K, int64_t N, int32_t *acc) {
    const bool as = a->dtype == OT_INT8, bs = b->dtype == OT_INT8;
    const uint8_t *ad = a->data, *bd = b->data;
#pragma omp parallel for if (batch * M * N * K > 262144)
    for (int64_t bm = 0; bm < batch * M; bm++) {
        const int64_t bi = bm / M, m = bm % M;
        const uint8_t *ar = ad + ((batch_a == 1 ? 0 : bi) * M + m) * K;
        const uint8_t *bb = bd + (batch_b == 1 ? 0 : bi) * K * N;
        for (int64_t n = 0; n < N; n++) {
            int64_t s = 0;
            const int64_t zb = n_bzp == 1 ? b_zp[0] : b_zp[n];
            for (int64_t k = 0; k < K; k++) {
                const int64_t av = (as ? (int64_t)(int8_t)ar[k] : (int64_t)ar[k]) - a_zp;
                const uint8_t bv8 = bb[k * N + n];
                s += av * ((bs ? (int64_t)(int8_t)bv8 : (int64_t)bv8) - zb);
            }
            acc[bm * N + n] = (int32_t)s; /* wraps like the reference's int32 matmul */
        }
    }
}
