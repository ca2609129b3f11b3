/* Maxima over the class axis, shared by the softmax-family kernels
 * (softmax.c, softmax_grad.c).  Macros, so they expand inside the per-type
 * kernel macros with those macros' T, CT and LD.  The selects (rather than
 * fmax) are what `omp simd` vectorises; a NaN input reaches the caller's
 * exp either way. */
#ifndef OT_KERNELS_CPU_CLASS_MAX_H
#define OT_KERNELS_CPU_CLASS_MAX_H

#define OT_PRAGMA(x) _Pragma(#x)

/* Declares CT mx = the largest LD(x, c), c < C (-inf when C == 0). */
#define OT_ROW_MAX(CT, LD, x, C, mx)                                      \
    CT mx = -INFINITY;                                                    \
    OT_PRAGMA(omp simd reduction(max:mx)) for (int64_t c_ = 0; c_ < (C); c_++) { \
        CT v_ = LD(x, c_);                                                \
        mx = v_ > mx ? v_ : mx;                                           \
    }

/* Raises m[j], j < w, to the largest LD(x + c * D, j) over c in [c0, C):
   the column maxima of a tile of w adjacent positions. */
#define OT_TILE_MAX(T, CT, LD, x, c0, C, D, w, m)                         \
    for (int64_t c_ = (c0); c_ < (C); c_++) {                             \
        const T *p_ = (x) + c_ * (D);                                     \
        _Pragma("omp simd") for (int64_t j_ = 0; j_ < (w); j_++) {        \
            CT v_ = LD(p_, j_);                                           \
            m[j_] = v_ > m[j_] ? v_ : m[j_];                              \
        }                                                                 \
    }

#endif
