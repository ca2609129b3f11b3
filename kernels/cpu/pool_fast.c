#include "pool_fast.h"

#include <math.h>
#include <string.h>

bool ot_pool_is_2x2s2(const ot_window *w) {
    if (w->n != 2) return false;
    for (int i = 0; i < 2; i++)
        if (w->kernel[i] != 2 || w->stride[i] != 2 || w->dilation[i] != 1 || w->pad_begin[i] || w->pad_end[i] ||
            w->extra_end[i] || w->out[i] != w->in[i] / 2)
            return false;
    return true;
}

/* Below this many output elements a thread team costs more than the work. */
#define OT_POOL_FAST_PAR_MIN 16384

void ot_maxpool2x2_f32(const ot_window *w, int64_t NC, const float *x, float *y) {
    const int64_t H = w->in[0], W = w->in[1], OH = w->out[0], OW = w->out[1];
#pragma omp parallel for schedule(static) if (NC * OH * OW >= OT_POOL_FAST_PAR_MIN)
    for (int64_t r = 0; r < NC * OH; r++) {
        int64_t plane = r / OH, oh = r % OH;
        const float *r0 = x + (plane * H + 2 * oh) * W, *r1 = r0 + W;
        float *yr = y + r * OW;
#pragma omp simd
        for (int64_t ow = 0; ow < OW; ow++) {
            float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
            float m = b > a ? b : a;
            m = c > m ? c : m;
            m = d > m ? d : m;
            bool nan = a != a || b != b || c != c || d != d;
            yr[ow] = nan ? NAN : m;
        }
    }
}

void ot_maxpool2x2_grad_f32(const ot_window *w, int64_t NC, const float *x, const float *dy, float *dx) {
    const int64_t H = w->in[0], W = w->in[1], OH = w->out[0], OW = w->out[1];
#pragma omp parallel for schedule(static) if (NC * OH * OW >= OT_POOL_FAST_PAR_MIN)
    for (int64_t plane = 0; plane < NC; plane++) {
        const float *xp = x + plane * H * W, *gp = dy + plane * OH * OW;
        float *dp = dx + plane * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
            float *d0 = dp + 2 * oh * W, *d1 = d0 + W;
            /* Selects, not branches: which element of a window is largest is
               data, and mispredicted branches made this loop cost as much as
               the forward convolution.  A row holding a NaN (rare) takes the
               scalar rule: the first NaN gets the gradient. */
            bool nan = false;
            for (int64_t j = 0; j < 2 * OW; j++) nan |= (r0[j] != r0[j]) | (r1[j] != r1[j]);
            const float *gr = gp + oh * OW;
            if (!nan) {
#pragma omp simd
                for (int64_t ow = 0; ow < OW; ow++) {
                    float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1], g = gr[ow];
                    float m = b > a ? b : a;
                    m = c > m ? c : m;
                    m = d > m ? d : m;
                    bool e0 = a == m, e1 = !e0 && b == m, e2 = !e0 && !e1 && c == m, e3 = !e0 && !e1 && !e2;
                    d0[2 * ow] = e0 ? g : 0.0f;
                    d0[2 * ow + 1] = e1 ? g : 0.0f;
                    d1[2 * ow] = e2 ? g : 0.0f;
                    d1[2 * ow + 1] = e3 ? g : 0.0f;
                }
            } else {
                for (int64_t ow = 0; ow < OW; ow++) {
                    float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
                    int k = 0;
                    for (int t = 1; t < 4; t++) /* the first maximum in scan order */
                        if (v[t] > v[k]) k = t;
                    for (int t = 0; t < 4; t++) /* a NaN wins: the first one */
                        if (v[t] != v[t]) {
                            k = t;
                            break;
                        }
                    for (int t = 0; t < 4; t++) (t < 2 ? d0 : d1)[2 * ow + (t & 1)] = k == t ? gr[ow] : 0.0f;
                }
            }
            if (W & 1) d0[W - 1] = d1[W - 1] = 0.0f; /* the column no window covers */
        }
        if (H & 1) memset(dp + (H - 1) * W, 0, sizeof(float) * (size_t)W);
    }
}
