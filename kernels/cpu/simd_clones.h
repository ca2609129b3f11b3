/* Hot loops compiled twice, for AVX2 and for the baseline ISA, the copy picked
 * at load time (GCC function multiversioning), so no -march flag is needed.
 * AVX2 without FMA: both copies give the same bits.  Guarded to GCC, glibc and
 * x86-64; -DOT_NO_CLONES turns it off. */
#ifndef OT_KERNELS_CPU_SIMD_CLONES_H
#define OT_KERNELS_CPU_SIMD_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(OT_NO_CLONES)
#define OT_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OT_SIMD_CLONES
#endif

#endif
