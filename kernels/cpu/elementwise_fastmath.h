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

#endif
