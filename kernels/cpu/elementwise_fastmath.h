/* Branch-free float32 exp, tanh and sigmoid that GCC vectorises under
 * `#pragma omp simd` (glibc's scalar expf/tanhf cost 4-18 ns per element;
 * these run at memory speed).  Accuracy: exp within 2 ulp over the whole
 * range (subnormal results included, overflow to inf, NaN propagates);
 * tanh and sigmoid within a few ulp.  Cody-Waite range reduction and
 * Cephes' minimax polynomials. */
#ifndef OT_KERNELS_CPU_ELEMENTWISE_FASTMATH_H
#define OT_KERNELS_CPU_ELEMENTWISE_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float ot_fm_bits2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint32_t ot_fm_f2bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Selects are done on the bits with integer compares and masks: GCC does
   not if-convert branches holding float arithmetic (it may trap under the
   default -ftrapping-math), and such branches stop vectorisation. */
static inline float ot_fast_expf(float x) {
    /* n = round(x / ln 2) via the 1.5 * 2^23 trick: n sits in the low
       mantissa bits of k, read without a float->int conversion. */
    const float k = x * 1.44269504088896341f + 12582912.0f;
    const float n = k - 12582912.0f;
    const int32_t ni = (int32_t)(ot_fm_f2bits(k) & 0x7fffffu) - 0x400000;
    float r = x - n * 0.693359375f; /* ln 2, high part (exact product) */
    r = r - n * -2.12194440e-4f;    /* ln 2, low part */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    /* 2^n as two factors so n in [-150, 129] never leaves the exponent range. */
    const int32_t n1 = ni / 2, n2 = ni - n1;
    const float e = y * ot_fm_bits2f((uint32_t)(n1 + 127) << 23) * ot_fm_bits2f((uint32_t)(n2 + 127) << 23);
    /* Outside [-104, 89] the reduction above is garbage: exp(-104) rounds
       to 0 and exp(89) overflows, so those are masked in (infinities
       included); NaN is computed through and propagates.  Masks rather than
       ?: so GCC neither specialises nor sinks the arithmetic into branches,
       which would stop the loop from vectorising. */
    const uint32_t xb = ot_fm_f2bits(x);
    const int32_t xi = (int32_t)xb;
    const uint32_t over = 0u - (uint32_t)((xi > 0x42b20000) & (xi <= 0x7f800000));    /* x > 89.0f, to +inf */
    const uint32_t under = 0u - (uint32_t)((xb > 0xc2d00000u) & (xb <= 0xff800000u)); /* x < -104.0f, to -inf */
    return ot_fm_bits2f((ot_fm_f2bits(e) & ~(over | under)) | (0x7f800000u & over));
}

static inline float ot_fast_sigmoidf(float x) { return 1.0f / (1.0f + ot_fast_expf(-x)); }

static inline float ot_fast_tanhf(float x) {
    const uint32_t xb = ot_fm_f2bits(x), ab = xb & 0x7fffffffu, sign = xb & 0x80000000u;
    const float a = ot_fm_bits2f(ab);
    /* |x| >= 0.625: 1 - 2 / (e^2|x| + 1) has no harmful cancellation there. */
    const float big = 1.0f - 2.0f / (ot_fast_expf(2.0f * a) + 1.0f);
    /* |x| < 0.625: odd minimax polynomial. */
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = p * z * x + x;
    const uint32_t use_small = 0u - (uint32_t)(ab < 0x3f200000u); /* |x| < 0.625f */
    return ot_fm_bits2f((ot_fm_f2bits(small) & use_small) | ((ot_fm_f2bits(big) | sign) & ~use_small));
}

/* erfc(x): the Chebyshev fit of Numerical Recipes' erfcc (relative error
   1.2e-7 in exact arithmetic) with one exp and one division, so it
   vectorises.  Measured in float32: absolute error below 5e-7 everywhere
   (erf(x) = 1 - erfc(x) to a few ulp of 1), relative error below 1e-5 down
   to erfc = 1e-35 (in the far tail the rounding of x^2 dominates).  The
   normal CDF 0.5 * erfc(-x / sqrt 2) keeps that relative accuracy in its
   lower tail, where 0.5 * (1 + erf(x / sqrt 2)) cancels. */
static inline float ot_fast_erfcf(float x) {
    const uint32_t xb = ot_fm_f2bits(x);
    const float z = ot_fm_bits2f(xb & 0x7fffffffu);
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float pos = t * ot_fast_expf(p - z * z); /* erfc(|x|) */
    const float neg = 2.0f - pos;                  /* erfc(-|x|) */
    const uint32_t m = 0u - (xb >> 31);            /* x negative (NaN: whichever, it propagates) */
    return ot_fm_bits2f((ot_fm_f2bits(neg) & m) | (ot_fm_f2bits(pos) & ~m));
}

#endif
