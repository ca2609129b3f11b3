/* Included first (before any function) by the kernels whose max / min / exp
 * loops select between floats under `omp simd`. */
#ifndef OT_KERNELS_CPU_FP_SELECT_H
#define OT_KERNELS_CPU_FP_SELECT_H
#if defined(__GNUC__) && !defined(__clang__)
/* Lets GCC if-convert the float selects (and so vectorise them); we never
   enable floating-point traps. */
#pragma GCC optimize("no-trapping-math")
#endif
#if defined(__clang__)
/* The float16 / float64-exp instantiations of the `omp simd` loops do not
   vectorise (calls inside); that is expected, not an error. */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

#endif
