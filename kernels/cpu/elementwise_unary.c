/* Unary maps.  One expression per op, instantiated for float and double via
 * <tgmath.h> (exp(x) is expf for a float x); float16/bfloat16 convert
 * through float32 in small stack buffers; integer types have their own
 * loops where ONNX defines the op on them. */
#include <string.h>
#include <tgmath.h>

#include "elementwise.h"
#include "elementwise_fastmath.h"
#include "elementwise_util.h"
#include "simd_clones.h"

/* x: the element; A, B, G: the op's parameters in the element type. */
#define K(c) ((T)(c))
#define UN_SOFTPLUS(x) ((x) > 0 ? (x) + log1p(exp(-(x))) : log1p(exp(x)))
#define UN_CLAMP01(v) ((v) < 0 ? K(0) : (v) > 1 ? K(1) : (v)) /* keeps NaN, as np.clip does */
#define UN_FLOAT_OPS(X)                                                                        \
    X(NEG, -x)                                                                                 \
    X(ABS, fabs(x))                                                                            \
    X(SQRT, sqrt(x))                                                                           \
    X(RECIPROCAL, K(1) / x)                                                                    \
    X(EXP, exp(x))                                                                             \
    X(LOG, log(x))                                                                             \
    X(SIN, sin(x))                                                                             \
    X(COS, cos(x))                                                                             \
    X(TAN, tan(x))                                                                             \
    X(TANH, tanh(x))                                                                           \
    X(SIGMOID, x >= 0 ? K(1) / (K(1) + exp(-x)) : exp(x) / (K(1) + exp(x)))                    \
    X(RELU, x < 0 ? K(0) : x)                                                                  \
    X(LEAKY_RELU, x * (x < 0 ? A : K(1))) /* multiply always: selects only constants, so it vectorises */ \
    X(ELU, x < 0 ? A * expm1(x) : x)                                                           \
    X(SELU, x <= 0 ? G * (A * exp(x) - A) : G * x)                                             \
    X(CELU, x > 0 ? x : A * expm1(x / A))                                                      \
    X(GELU, K(0.5) * x * (K(1) + erf(x * K(0.70710678118654752440))))                         \
    X(GELU_TANH, K(0.5) * x * (K(1) + tanh(K(0.79788456080286535588) * (x + K(0.044715) * x * x * x)))) \
    X(ERF, erf(x))                                                                             \
    X(SOFTPLUS, UN_SOFTPLUS(x))                                                                \
    X(SOFTSIGN, x / (K(1) + fabs(x)))                                                          \
    X(HARD_SIGMOID, UN_CLAMP01(A * x + B))                                                     \
    X(HARD_SWISH, x * UN_CLAMP01(x * K(1.0 / 6.0) + K(0.5)))                                   \
    X(MISH, x * tanh(UN_SOFTPLUS(x)))                                                          \
    X(FLOOR, floor(x))                                                                         \
    X(CEIL, ceil(x))                                                                           \
    X(ROUND, nearbyint(x)) /* default rounding mode: half to even */                           \
    X(SIGN, x > 0 ? K(1) : x < 0 ? K(-1) : x)                                                  \
    X(ACOS, acos(x))                                                                           \
    X(ASIN, asin(x))                                                                           \
    X(ATAN, atan(x))                                                                           \
    X(SINH, sinh(x))                                                                           \
    X(COSH, cosh(x))                                                                           \
    X(ASINH, asinh(x))                                                                         \
    X(ACOSH, acosh(x))                                                                         \
    X(ATANH, atanh(x))                                                                         \
    X(THRESHOLDED_RELU, x > A ? x : K(0))                                                      \
    X(SHRINK, x < -A ? x + B : x > A ? x - B : K(0))

static const ot_unary_params un_no_params = {0.0f, 0.0f, 0.0f};

#define UN_DEFINE_FLOAT(STORAGE, FNAME, TYPE)                                                      \
    STORAGE void FNAME(ot_unary_op op, const ot_unary_params *p, const TYPE *xs, TYPE *ys, int64_t n) {    \
        typedef TYPE T;                                                                            \
        if (!p) p = &un_no_params;                                                                 \
        const T A = (T)p->alpha, B = (T)p->beta, G = (T)p->gamma;                                  \
        (void)A;                                                                                   \
        (void)B;                                                                                   \
        (void)G;                                                                                   \
        switch (op) {                                                                              \
            UN_FLOAT_OPS(UN_CASE)                                                                  \
        default: break;                                                                            \
        }                                                                                          \
    }
#define UN_CASE(name, expr)                      \
    case OT_UN_##name:                           \
        _Pragma("omp simd")                      \
        for (int64_t i = 0; i < n; i++) {        \
            const T x = xs[i];                   \
            ys[i] = (T)(expr);                   \
        }                                        \
        break;
UN_DEFINE_FLOAT(static, un_f32_libm, float)
UN_DEFINE_FLOAT(, ot_unary_f64, double)
#undef UN_CASE

/* float32: the exp-based activations use the vectorised forms (also the
   fused kernels' loops for these ops, so compiled for AVX2 too). */
OT_SIMD_CLONES void ot_unary_f32(ot_unary_op op, const ot_unary_params *p, const float *xs, float *ys, int64_t n) {
    switch (op) {
    case OT_UN_EXP:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) ys[i] = ot_fast_expf(xs[i]);
        return;
    case OT_UN_SIGMOID:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) ys[i] = ot_fast_sigmoidf(xs[i]);
        return;
    case OT_UN_TANH:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) ys[i] = ot_fast_tanhf(xs[i]);
        return;
    case OT_UN_GELU_TANH:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            const float x = xs[i];
            ys[i] = 0.5f * x * (1.0f + ot_fast_tanhf(0.79788456080286535588f * (x + 0.044715f * x * x * x)));
        }
        return;
    default: un_f32_libm(op, p, xs, ys, n); return;
    }
}

double ot_unary_eval(ot_unary_op op, const ot_unary_params *p, double x) {
    double y = 0;
    ot_unary_f64(op, p, &x, &y, 1);
    return y;
}

static bool un_is_float_op(ot_unary_op op) { return op != OT_UN_BITWISE_NOT && op != OT_UN_NOT; }

/* Integer ops computed through float64 (Erf and Shrink are defined on
   integers; the result converts back with a defined saturating cast). */
static bool un_int_via_double(ot_unary_op op) { return op == OT_UN_ERF || op == OT_UN_SHRINK; }

bool ot_cpu_unary_supports(ot_unary_op op, ot_dtype dt) {
    if ((int)op < 0 || op >= OT_UN_COUNT) return false;
    if (ot_dtype_is_float(dt)) return un_is_float_op(op);
    if (dt == OT_BOOL) return op == OT_UN_NOT;
    if (!ot_dtype_is_int(dt)) return false;
    bool sig = ot_dtype_is_signed(dt);
    switch (op) {
    case OT_UN_NEG: case OT_UN_RELU: return sig;
    case OT_UN_ABS: case OT_UN_SIGN: case OT_UN_BITWISE_NOT: return true;
    default: return un_int_via_double(op);
    }
}

#define UN_DEFINE_SINT(E, NAME, T, U)                                                                 \
    static void un_##NAME(ot_unary_op op, const ot_unary_params *p, const T *x, T *y, int64_t n) {    \
        switch (op) {                                                                                 \
        case OT_UN_NEG: for (int64_t i = 0; i < n; i++) y[i] = (T)(0u - (U)x[i]); break;              \
        case OT_UN_ABS: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? (T)(0u - (U)x[i]) : x[i]; break; \
        case OT_UN_SIGN: for (int64_t i = 0; i < n; i++) y[i] = (T)((x[i] > 0) - (x[i] < 0)); break;   \
        case OT_UN_RELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i]; break;            \
        case OT_UN_BITWISE_NOT: for (int64_t i = 0; i < n; i++) y[i] = (T)~x[i]; break;               \
        default:                                                                                      \
            for (int64_t i = 0; i < n; i++) y[i] = (T)ot_ew_d2i64(ot_unary_eval(op, p, (double)x[i])); \
            break;                                                                                    \
        }                                                                                             \
    }
#define UN_DEFINE_UINT(E, NAME, T, U)                                                                 \
    static void un_##NAME(ot_unary_op op, const ot_unary_params *p, const T *x, T *y, int64_t n) {    \
        switch (op) {                                                                                 \
        case OT_UN_ABS: if (y != x) memcpy(y, x, (size_t)n * sizeof(T)); break;                      \
        case OT_UN_SIGN: for (int64_t i = 0; i < n; i++) y[i] = (T)(x[i] > 0); break;                  \
        case OT_UN_BITWISE_NOT: for (int64_t i = 0; i < n; i++) y[i] = (T)~x[i]; break;               \
        default:                                                                                      \
            for (int64_t i = 0; i < n; i++) y[i] = (T)ot_ew_d2u64(ot_unary_eval(op, p, (double)x[i])); \
            break;                                                                                    \
        }                                                                                             \
    }
OT_EW_SINT_TYPES(UN_DEFINE_SINT)
OT_EW_UINT_TYPES(UN_DEFINE_UINT)

typedef struct un_job {
    ot_unary_op op;
    const ot_unary_params *p;
    ot_dtype dt;
    const void *x;
    void *y;
} un_job;

enum { UN_BUF = 256 };

static void un_range(int64_t b, int64_t e, const void *ctx) {
    const un_job *j = ctx;
    const int64_t n = e - b;
    switch (j->dt) {
    case OT_FLOAT: ot_unary_f32(j->op, j->p, (const float *)j->x + b, (float *)j->y + b, n); return;
    case OT_DOUBLE: ot_unary_f64(j->op, j->p, (const double *)j->x + b, (double *)j->y + b, n); return;
    case OT_FLOAT16:
    case OT_BFLOAT16: {
        const uint16_t *x = (const uint16_t *)j->x + b;
        uint16_t *y = (uint16_t *)j->y + b;
        const bool h = j->dt == OT_FLOAT16;
        float buf[UN_BUF];
        for (int64_t s = 0; s < n; s += UN_BUF) {
            int64_t m = n - s < UN_BUF ? n - s : UN_BUF;
            for (int64_t i = 0; i < m; i++) buf[i] = h ? ot_f16_to_f32(x[s + i]) : ot_bf16_to_f32(x[s + i]);
            ot_unary_f32(j->op, j->p, buf, buf, m);
            for (int64_t i = 0; i < m; i++) y[s + i] = h ? ot_f32_to_f16(buf[i]) : ot_f32_to_bf16(buf[i]);
        }
        return;
    }
    case OT_BOOL: {
        const uint8_t *x = (const uint8_t *)j->x + b;
        uint8_t *y = (uint8_t *)j->y + b;
        for (int64_t i = 0; i < n; i++) y[i] = !x[i];
        return;
    }
#define UN_INT_CASE(E, NAME, T, U) \
    case E: un_##NAME(j->op, j->p, (const T *)j->x + b, (T *)j->y + b, n); return;
        OT_EW_SINT_TYPES(UN_INT_CASE)
        OT_EW_UINT_TYPES(UN_INT_CASE)
#undef UN_INT_CASE
    default: return;
    }
}

/* Ops that call libm per element are worth threads much earlier. */
static int64_t un_grain(ot_unary_op op) {
    switch (op) {
    case OT_UN_NEG: case OT_UN_ABS: case OT_UN_RELU: case OT_UN_LEAKY_RELU: case OT_UN_SIGN:
    case OT_UN_FLOOR: case OT_UN_CEIL: case OT_UN_ROUND: case OT_UN_THRESHOLDED_RELU: case OT_UN_SHRINK:
    case OT_UN_BITWISE_NOT: case OT_UN_NOT: case OT_UN_RECIPROCAL: case OT_UN_SOFTSIGN: case OT_UN_HARD_SIGMOID:
    case OT_UN_HARD_SWISH: case OT_UN_SQRT:
        return OT_GRAIN_CHEAP;
    default: return OT_GRAIN_COSTLY;
    }
}

ot_status ot_cpu_unary(ot_unary_op op, const ot_unary_params *p, const ot_tensor *x, ot_tensor *y) {
    if (!ot_cpu_unary_supports(op, x->dtype) || y->dtype != x->dtype)
        return ot_error(OT_ERR_UNSUPPORTED, "no unary kernel %d for %s", (int)op, ot_dtype_name(x->dtype));
    un_job j = {op, p ? p : &un_no_params, x->dtype, x->data, y->data};
    ot_parallel_range(ot_tensor_numel(x), un_grain(op), un_range, &j);
    return OT_OK;
}

/* ---- IsNaN / IsInf ------------------------------------------------------- */
typedef struct un_class_job {
    const ot_tensor *x;
    uint8_t *y;
    int mode; /* 0: isnan; else bit 1: +inf, bit 2: -inf */
} un_class_job;

static uint8_t un_classify(double v, int mode) {
    if (!mode) return v != v;
    return (uint8_t)(((mode & 1) && v == INFINITY) || ((mode & 2) && v == -INFINITY));
}

static void un_class_range(int64_t b, int64_t e, const void *ctx) {
    const un_class_job *j = ctx;
    const void *d = j->x->data;
    switch (j->x->dtype) {
    case OT_FLOAT:
        for (int64_t i = b; i < e; i++) j->y[i] = un_classify(((const float *)d)[i], j->mode);
        break;
    case OT_DOUBLE:
        for (int64_t i = b; i < e; i++) j->y[i] = un_classify(((const double *)d)[i], j->mode);
        break;
    case OT_FLOAT16:
        for (int64_t i = b; i < e; i++) j->y[i] = un_classify(ot_f16_to_f32(((const uint16_t *)d)[i]), j->mode);
        break;
    case OT_BFLOAT16:
        for (int64_t i = b; i < e; i++) j->y[i] = un_classify(ot_bf16_to_f32(((const uint16_t *)d)[i]), j->mode);
        break;
    default: break;
    }
}

static ot_status un_classify_run(const ot_tensor *x, int mode, ot_tensor *y) {
    if (!ot_dtype_is_float(x->dtype) || y->dtype != OT_BOOL)
        return ot_error(OT_ERR_UNSUPPORTED, "IsNaN/IsInf: no kernel for %s", ot_dtype_name(x->dtype));
    un_class_job j = {x, y->data, mode};
    ot_parallel_range(ot_tensor_numel(x), OT_GRAIN_CHEAP, un_class_range, &j);
    return OT_OK;
}

ot_status ot_cpu_isnan(const ot_tensor *x, ot_tensor *y) { return un_classify_run(x, 0, y); }

ot_status ot_cpu_isinf(const ot_tensor *x, bool detect_positive, bool detect_negative, ot_tensor *y) {
    int mode = (detect_positive ? 1 : 0) | (detect_negative ? 2 : 0);
    if (!mode) { /* neither sign: every element is false */
        if (!ot_dtype_is_float(x->dtype) || y->dtype != OT_BOOL)
            return ot_error(OT_ERR_UNSUPPORTED, "IsInf: no kernel for %s", ot_dtype_name(x->dtype));
        memset(y->data, 0, (size_t)ot_tensor_numel(y));
        return OT_OK;
    }
    return un_classify_run(x, mode, y);
}
