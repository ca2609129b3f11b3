/* ONNX preview-training optimizer loops; see preview_training.h. */
#include "preview_training.h"

#include <math.h>

/* Below this many elements a parallel region costs more than it saves. */
#define PT_PAR_MIN 32768

#define PT_ADAGRAD(T, SQRT)                                                          \
    static void pt_adagrad_##T(int64_t n, const ot_ptrain_coef *k, const T *x, const T *g, \
                               const T *h, T *xo, T *ho) {                            \
        const T r = (T)k->rate, nc = (T)k->norm, eps = (T)k->epsilon;                \
        _Pragma("omp parallel for schedule(static) if (n >= PT_PAR_MIN)")              \
        for (int64_t i = 0; i < n; i++) {                                            \
            T gr = nc * x[i] + g[i];                                                 \
            T hn = h[i] + gr * gr;                                                   \
            T xn = x[i] - r * gr / (SQRT(hn) + eps);                                 \
            if (ho) ho[i] = hn;                                                      \
            if (xo) xo[i] = xn;                                                      \
        }                                                                            \
    }

#define PT_ADAM(T, SQRT)                                                                       \
    static void pt_adam_##T(int64_t n, const ot_ptrain_coef *k, const T *x, const T *g, const T *v, \
                            const T *h, T *xo, T *vo, T *ho) {                                  \
        const T r = (T)k->rate, nc = (T)k->norm, post = (T)(1.0 - k->norm_post);               \
        const T a = (T)k->alpha, a1 = (T)(1.0 - k->alpha), b = (T)k->beta, b1 = (T)(1.0 - k->beta); \
        const T eps = (T)k->epsilon;                                                           \
        _Pragma("omp parallel for schedule(static) if (n >= PT_PAR_MIN)")                        \
        for (int64_t i = 0; i < n; i++) {                                                      \
            T gr = nc * x[i] + g[i];                                                           \
            T vn = a * v[i] + a1 * gr;                                                         \
            T hn = b * h[i] + b1 * (gr * gr);                                                  \
            T xn = post * (x[i] - r * (vn / (SQRT(hn) + eps)));                                \
            if (vo) vo[i] = vn;                                                                \
            if (ho) ho[i] = hn;                                                                \
            if (xo) xo[i] = xn;                                                                \
        }                                                                                      \
    }

#define PT_MOMENTUM(T)                                                                          \
    static void pt_momentum_##T(int64_t n, const ot_ptrain_coef *k, const T *x, const T *g,     \
                                const T *v, T *xo, T *vo) {                                     \
        const T r = (T)k->rate, nc = (T)k->norm, a = (T)k->alpha, b = (T)k->beta;               \
        const bool nesterov = k->nesterov;                                                      \
        _Pragma("omp parallel for schedule(static) if (n >= PT_PAR_MIN)")                         \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T gr = nc * x[i] + g[i];                                                            \
            T vn = a * v[i] + b * gr;                                                           \
            /* Nesterov steps along the look-ahead gradient + alpha * v_new. */                 \
            T xn = nesterov ? x[i] - r * (gr + a * vn) : x[i] - r * vn;                         \
            if (vo) vo[i] = vn;                                                                 \
            if (xo) xo[i] = xn;                                                                 \
        }                                                                                       \
    }

PT_ADAGRAD(float, sqrtf)
PT_ADAGRAD(double, sqrt)
PT_ADAM(float, sqrtf)
PT_ADAM(double, sqrt)
PT_MOMENTUM(float)
PT_MOMENTUM(double)

void ot_ptrain_adagrad(ot_dtype dt, int64_t n, const ot_ptrain_coef *k, const void *x, const void *g,
                       const void *h, void *x_new, void *h_new) {
    if (dt == OT_FLOAT) pt_adagrad_float(n, k, x, g, h, x_new, h_new);
    else pt_adagrad_double(n, k, x, g, h, x_new, h_new);
}

void ot_ptrain_adam(ot_dtype dt, int64_t n, const ot_ptrain_coef *k, const void *x, const void *g, const void *v,
                    const void *h, void *x_new, void *v_new, void *h_new) {
    if (dt == OT_FLOAT) pt_adam_float(n, k, x, g, v, h, x_new, v_new, h_new);
    else pt_adam_double(n, k, x, g, v, h, x_new, v_new, h_new);
}

void ot_ptrain_momentum(ot_dtype dt, int64_t n, const ot_ptrain_coef *k, const void *x, const void *g,
                        const void *v, void *x_new, void *v_new) {
    if (dt == OT_FLOAT) pt_momentum_float(n, k, x, g, v, x_new, v_new);
    else pt_momentum_double(n, k, x, g, v, x_new, v_new);
}
