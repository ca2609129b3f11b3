/* Detection-family kernels (see detection.h): NonMaxSuppression, Col2Im for
 * integer types, and the float32 / float64 instantiations of the RoiAlign
 * and DeformConv templates. */
#include "detection.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "matmul.h"
#include "src/core/status.h"
#include "src/runtime/workspace.h"

/* ---- NonMaxSuppression ------------------------------------------------------ */

typedef struct nms_cand {
    float score;
    int64_t idx;
} nms_cand;

/* Highest score first, lower index first on ties; NaN scores last. */
static int nms_order(const void *pa, const void *pb) {
    const nms_cand *a = pa, *b = pb;
    int an = isnan(a->score), bn = isnan(b->score);
    if (an != bn) return an ? 1 : -1;
    if (!an && a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* A box as extents and area, in float as ONNX Runtime computes them. */
typedef struct nms_box {
    float x0, x1, y0, y1, area;
} nms_box;

static nms_box nms_extent(const float *b, bool center) {
    nms_box r;
    if (center) { /* [x_center, y_center, width, height] */
        float hw = b[2] / 2, hh = b[3] / 2;
        r.x0 = b[0] - hw;
        r.x1 = b[0] + hw;
        r.y0 = b[1] - hh;
        r.y1 = b[1] + hh;
    } else { /* [y1, x1, y2, x2], any diagonal */
        r.x0 = fminf(b[1], b[3]);
        r.x1 = fmaxf(b[1], b[3]);
        r.y0 = fminf(b[0], b[2]);
        r.y1 = fmaxf(b[0], b[2]);
    }
    r.area = (r.x1 - r.x0) * (r.y1 - r.y0);
    return r;
}

/* IoU strictly above the threshold; degenerate boxes never suppress. */
static bool nms_suppress(const nms_box *a, const nms_box *b, float threshold) {
    float ix0 = fmaxf(a->x0, b->x0), ix1 = fminf(a->x1, b->x1);
    if (!(ix1 > ix0)) return false;
    float iy0 = fmaxf(a->y0, b->y0), iy1 = fminf(a->y1, b->y1);
    if (!(iy1 > iy0)) return false;
    float inter = (ix1 - ix0) * (iy1 - iy0);
    if (!(inter > 0)) return false;
    float uni = a->area + b->area - inter;
    if (!(a->area > 0) || !(b->area > 0) || !(uni > 0)) return false;
    return inter / uni > threshold;
}

ot_status ot_nms(const ot_nms_params *p, const float *boxes, const float *scores, int64_t *out, int64_t cap,
                 int64_t *count) {
    const int64_t S = p->boxes;
    *count = 0;
    if (p->max_per_class <= 0 || S == 0) return OT_OK;
    nms_cand *cand = ot_workspace_alloc(sizeof *cand * (size_t)S);
    nms_box *ext = ot_workspace_alloc(sizeof *ext * (size_t)S);
    int64_t *kept = ot_workspace_alloc(sizeof *kept * (size_t)S);
    if (!cand || !ext || !kept) {
        ot_workspace_free(cand);
        ot_workspace_free(ext);
        ot_workspace_free(kept);
        return ot_error(OT_ERR_NOMEM, "out of memory for NonMaxSuppression's %lld candidates", (long long)S);
    }
    int64_t total = 0;
    for (int64_t b = 0; b < p->batches; b++) {
        const float *bx = boxes + b * S * 4;
        for (int64_t i = 0; i < S; i++) ext[i] = nms_extent(bx + 4 * i, p->center_point_box);
        for (int64_t c = 0; c < p->classes; c++) {
            const float *sc = scores + (b * p->classes + c) * S;
            int64_t n = 0, nkept = 0;
            for (int64_t i = 0; i < S; i++)
                if (!p->has_score_threshold || sc[i] > p->score_threshold) cand[n++] = (nms_cand){sc[i], i};
            qsort(cand, (size_t)n, sizeof *cand, nms_order);
            for (int64_t i = 0; i < n && nkept < p->max_per_class; i++) {
                const nms_box *bi = &ext[cand[i].idx];
                bool keep = true;
                for (int64_t j = 0; j < nkept && keep; j++) keep = !nms_suppress(bi, &ext[kept[j]], p->iou_threshold);
                if (!keep) continue;
                kept[nkept++] = cand[i].idx;
                if (out && total < cap) {
                    out[3 * total] = b;
                    out[3 * total + 1] = c;
                    out[3 * total + 2] = cand[i].idx;
                }
                total++;
            }
        }
    }
    ot_workspace_free(cand);
    ot_workspace_free(ext);
    ot_workspace_free(kept);
    *count = total;
    return OT_OK;
}

/* ---- Col2Im for integer types ------------------------------------------------ */

/* Unsigned addition wraps exactly as two's-complement signed addition does. */
#define OT_COL2IM_INT(NAME, U)                                                                             \
    static void NAME(const ot_conv_geom *g, int64_t channels, const U *col, U *img) {                     \
        const int n = g->n;                                                                                \
        memset(img, 0, sizeof(U) * (size_t)(channels * g->img_size));                                      \
        _Pragma("omp parallel for schedule(static) if (channels * g->kernel_size * g->col_size > 65536 && !omp_in_parallel())") \
        for (int64_t c = 0; c < channels; c++) {                                                           \
            U *plane = img + c * g->img_size;                                                              \
            for (int64_t r = 0; r < g->kernel_size; r++) {                                                 \
                int64_t k[OT_WINDOW_MAX_DIMS], o[OT_WINDOW_MAX_DIMS] = {0}, q = r;                         \
                for (int d = n - 1; d >= 0; d--) {                                                         \
                    k[d] = q % g->kernel[d];                                                               \
                    q /= g->kernel[d];                                                                     \
                }                                                                                          \
                const U *src = col + (c * g->kernel_size + r) * g->col_size;                               \
                for (int64_t p = 0; p < g->col_size; p++) {                                                \
                    int64_t off = 0;                                                                       \
                    bool ok = true;                                                                        \
                    for (int d = 0; d < n && ok; d++) {                                                    \
                        int64_t i = o[d] * g->stride[d] - g->pad[d] + k[d] * g->dilation[d];               \
                        ok = i >= 0 && i < g->img[d];                                                      \
                        off = off * g->img[d] + i;                                                         \
                    }                                                                                      \
                    if (ok) plane[off] = (U)(plane[off] + src[p]);                                         \
                    for (int d = n - 1; d >= 0; d--) { /* next window position */                          \
                        if (++o[d] < g->col[d]) break;                                                     \
                        o[d] = 0;                                                                          \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }
OT_COL2IM_INT(col2im_u8, uint8_t)
OT_COL2IM_INT(col2im_u16, uint16_t)
OT_COL2IM_INT(col2im_u32, uint32_t)
OT_COL2IM_INT(col2im_u64, uint64_t)

void ot_col2im_int(const ot_conv_geom *g, int64_t channels, int elem_size, const void *col, void *img) {
    switch (elem_size) {
    case 1: col2im_u8(g, channels, col, img); break;
    case 2: col2im_u16(g, channels, col, img); break;
    case 4: col2im_u32(g, channels, col, img); break;
    default: col2im_u64(g, channels, col, img); break;
    }
}

/* ---- RoiAlign and DeformConv: float32 and float64 ------------------------------ */

#define T float
#define SUF f32
#define GEMM ot_gemm_f32
#include "detection_roi_tmpl.h"
#include "detection_deform_tmpl.h"
#undef T
#undef SUF
#undef GEMM

#define T double
#define SUF f64
#define GEMM ot_gemm_f64
#include "detection_roi_tmpl.h"
#include "detection_deform_tmpl.h"
#undef T
#undef SUF
#undef GEMM

ot_status ot_deform_conv_forward(ot_dtype dt, const ot_deform_geom *g, const void *X, const void *W, const void *offset,
                                 const void *mask, const void *B, void *Y) {
    if (dt == OT_FLOAT) return dc_forward_f32(g, X, W, offset, mask, B, Y);
    return dc_forward_f64(g, X, W, offset, mask, B, Y);
}

ot_status ot_deform_conv_backward(ot_dtype dt, const ot_deform_geom *g, const void *dY, const void *X, const void *W,
                                  const void *offset, const void *mask, void *dX, void *dW, void *doffset, void *dmask,
                                  void *dB) {
    if (dt == OT_FLOAT) return dc_backward_f32(g, dY, X, W, offset, mask, dX, dW, doffset, dmask, dB);
    return dc_backward_f64(g, dY, X, W, offset, mask, dX, dW, doffset, dmask, dB);
}

size_t ot_deform_conv_scratch(ot_dtype dt, const ot_deform_geom *g) {
    size_t elem = dt == OT_DOUBLE ? 8 : 4;
    return elem * (size_t)(g->C * g->conv.kernel_size * g->conv.col_size) + 64;
}
