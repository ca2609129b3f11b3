/* Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
 *
 * Every random value is a pure function of (seed, stream, step, index):
 * the stream is usually the node index, the step the training step and the
 * index the element's position in its tensor.  Nothing is carried from one
 * call to the next, so results never depend on the thread count, on the
 * order elements are visited or on the backend, and a checkpoint restores a
 * stream exactly by storing (seed, step). */
#ifndef OT_CORE_RNG_H
#define OT_CORE_RNG_H

#include <stdint.h>

typedef struct ot_rng {
    uint32_t key[2]; /* from (seed, stream) */
    uint32_t hi[2];  /* upper counter words: the step */
} ot_rng;

/* The raw generator: 10 rounds of Philox4x32 on a 128-bit counter. */
void ot_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

ot_rng ot_rng_make(uint64_t seed, uint64_t stream, uint64_t step);
/* Four 32-bit words for counter block `block` (elements 4*block .. 4*block+3). */
void ot_rng_block(const ot_rng *r, uint64_t block, uint32_t out[4]);
/* The 32-bit word of element i (one Philox call; prefer the bulk functions). */
uint32_t ot_rng_u32(const ot_rng *r, uint64_t i);

/* A word as a float in [0, 1) with 24 random bits (exactly representable). */
static inline float ot_rng_to_unit_f32(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

/* out[k] = word of element first + k, for k < n. */
void ot_rng_fill_u32(const ot_rng *r, uint64_t first, int64_t n, uint32_t *out);
/* out[k] = uniform [0, 1) of element first + k. */
void ot_rng_fill_uniform(const ot_rng *r, uint64_t first, int64_t n, float *out);
/* out[k] = standard normal of element first + k (Box-Muller on the element's
   two words of block (first + k) / 2). */
void ot_rng_fill_normal(const ot_rng *r, uint64_t first, int64_t n, float *out);

#endif
