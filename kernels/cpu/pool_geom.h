/* Internal to the pooling kernels (pool.c, pool_grad.c): element access
 * macros and the window geometry as a 3-D view (1-D and 2-D pools get
 * leading spatial dims of size 1), so the forward and backward loops walk
 * exactly the same taps. */
#ifndef OT_KERNELS_CPU_POOL_GEOM_H
#define OT_KERNELS_CPU_POOL_GEOM_H

#include <stdbool.h>
#include <stdint.h>

#include "float_kernel.h" /* LD_ / ST_ for f32, f64, f16, bf16 */
#include "window.h"

/* The integer MaxPool instantiations compute in float. */
#define LD_i8(p, i) ((float)(p)[i])
#define ST_i8(p, i, v) ((p)[i] = (int8_t)(v))
#define LD_u8(p, i) ((float)(p)[i])
#define ST_u8(p, i, v) ((p)[i] = (uint8_t)(v))

#define OT_NOT_NAN(v) ((v) == (v))

/* The window geometry as a 3-D view.  istride: how a tap's coordinates map to
   the index reported by MaxPool (row- or column-major over the real axes). */
typedef struct ot_pool3 {
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3], istride[3];
    int64_t plane_in, plane_out, taps;
} ot_pool3;

static inline void ot_pool3_make(const ot_window *w, bool col_major, ot_pool3 *g) {
    int off = 3 - w->n;
    for (int a = 0; a < 3; a++) {
        int i = a - off;
        bool real = i >= 0;
        g->in[a] = real ? w->in[i] : 1;
        g->k[a] = real ? w->kernel[i] : 1;
        g->s[a] = real ? w->stride[i] : 1;
        g->d[a] = real ? w->dilation[i] : 1;
        g->pb[a] = real ? w->pad_begin[i] : 0;
        g->pe[a] = real ? w->pad_end[i] : 0;
        g->out[a] = real ? w->out[i] : 1;
    }
    g->istride[2] = col_major ? g->in[0] * g->in[1] : 1;
    g->istride[1] = col_major ? g->in[0] : g->in[2];
    g->istride[0] = col_major ? 1 : g->in[1] * g->in[2];
    if (w->n == 1) g->istride[2] = 1; /* 1-D: both orders agree */
    g->plane_in = g->in[0] * g->in[1] * g->in[2];
    g->plane_out = g->out[0] * g->out[1] * g->out[2];
    g->taps = g->k[0] * g->k[1] * g->k[2];
}

/* Taps j in [*j0, *j1) of the window starting at `start` that land in [0, n). */
static inline void ot_tap_range(int64_t start, int64_t k, int64_t d, int64_t n, int64_t *j0, int64_t *j1) {
    if (d == 1) {
        int64_t a = start < 0 ? -start : 0, b = n - start;
        *j0 = a;
        *j1 = b < k ? b : k;
    } else {
        int64_t a = start < 0 ? (-start + d - 1) / d : 0;
        int64_t b = n - start > 0 ? (n - start - 1) / d + 1 : 0;
        *j0 = a;
        *j1 = b < k ? b : k;
    }
    if (*j1 < *j0) *j1 = *j0;
}

/* Taps of the window starting at `start` inside the padded extent [.., n + pe):
   count_include_pad's divisor along one axis. */
static inline int64_t ot_tap_count_padded(int64_t start, int64_t k, int64_t d, int64_t n, int64_t pe) {
    int64_t lim = n + pe - start; /* tap j counts while j * d < lim */
    if (lim <= 0) return 0;
    int64_t c = (lim + d - 1) / d;
    return c < k ? c : k;
}

#endif
