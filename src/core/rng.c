#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

void ot_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* splitmix64's finaliser: a bijection, so distinct (seed, stream) pairs only
   collide by accident of the xor, never systematically (stream 0 vs 1 etc.). */
static uint64_t rng_mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

ot_rng ot_rng_make(uint64_t seed, uint64_t stream, uint64_t step) {
    ot_rng r;
    uint64_t k = rng_mix64(seed ^ rng_mix64(stream + 0x632BE59BD9B4E019ull));
    r.key[0] = (uint32_t)k;
    r.key[1] = (uint32_t)(k >> 32);
    r.hi[0] = (uint32_t)step;
    r.hi[1] = (uint32_t)(step >> 32);
    return r;
}

void ot_rng_block(const ot_rng *r, uint64_t block, uint32_t out[4]) {
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), r->hi[0], r->hi[1]};
    ot_philox4x32(ctr, r->key, out);
}

uint32_t ot_rng_u32(const ot_rng *r, uint64_t i) {
    uint32_t w[4];
    ot_rng_block(r, i >> 2, w);
    return w[i & 3];
}

void ot_rng_fill_u32(const ot_rng *r, uint64_t first, int64_t n, uint32_t *out) {
    uint32_t w[4];
    int64_t k = 0;
    while (k < n) {
        uint64_t i = first + (uint64_t)k;
        ot_rng_block(r, i >> 2, w);
        for (unsigned lane = (unsigned)(i & 3); lane < 4 && k < n; lane++) out[k++] = w[lane];
    }
}

void ot_rng_fill_uniform(const ot_rng *r, uint64_t first, int64_t n, float *out) {
    uint32_t w[4];
    int64_t k = 0;
    while (k < n) {
        uint64_t i = first + (uint64_t)k;
        ot_rng_block(r, i >> 2, w);
        for (unsigned lane = (unsigned)(i & 3); lane < 4 && k < n; lane++) out[k++] = ot_rng_to_unit_f32(w[lane]);
    }
}

void ot_rng_fill_normal(const ot_rng *r, uint64_t first, int64_t n, float *out) {
    uint32_t w[4];
    for (int64_t k = 0; k < n; k++) {
        uint64_t i = first + (uint64_t)k;
        ot_rng_block(r, i >> 1, w);
        unsigned lane = (unsigned)(i & 1) * 2;
        /* u1 in (0, 1] keeps log() finite; u2 in [0, 1). */
        double u1 = ((double)(w[lane] >> 8) + 1.0) * (1.0 / 16777216.0);
        double u2 = (double)(w[lane + 1] >> 8) * (1.0 / 16777216.0);
        out[k] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}
