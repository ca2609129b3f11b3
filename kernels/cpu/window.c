/* Sliding-window geometry for Conv and pooling: see window.h for the formulas. */
#include "window.h"

#include <string.h>

#include "src/core/status.h"

ot_status ot_auto_pad_parse(const char *s, ot_auto_pad *out) {
    if (!s || !s[0] || !strcmp(s, "NOTSET")) *out = OT_AUTO_PAD_NOTSET;
    else if (!strcmp(s, "SAME_UPPER")) *out = OT_AUTO_PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER")) *out = OT_AUTO_PAD_SAME_LOWER;
    else if (!strcmp(s, "VALID")) *out = OT_AUTO_PAD_VALID;
    else
        return ot_error(OT_ERR_PARSE, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", s);
    return OT_OK;
}

const char *ot_auto_pad_name(ot_auto_pad p) {
    switch (p) {
    case OT_AUTO_PAD_NOTSET: return "NOTSET";
    case OT_AUTO_PAD_SAME_UPPER: return "SAME_UPPER";
    case OT_AUTO_PAD_SAME_LOWER: return "SAME_LOWER";
    case OT_AUTO_PAD_VALID: return "VALID";
    }
    return "?";
}

/* Integer ceil(a / b) for b > 0 and any sign of a. */
static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Bounds that keep every intermediate product far from int64 overflow. */
#define OT_WINDOW_LIMIT ((int64_t)1 << 40)

ot_status ot_window_compute(ot_window *w, int n, const int64_t *in, const int64_t *kernel,
                            const int64_t *strides, const int64_t *dilations, const int64_t *pads,
                            ot_auto_pad auto_pad, bool ceil_mode) {
    memset(w, 0, sizeof *w);
    if (n < 1 || n > OT_WINDOW_MAX_DIMS)
        return ot_error(OT_ERR_SHAPE, "%d spatial dims: between 1 and %d are supported", n, OT_WINDOW_MAX_DIMS);
    w->n = n;
    for (int i = 0; i < n; i++) {
        int64_t x = in[i], k = kernel[i];
        int64_t s = strides ? strides[i] : 1, d = dilations ? dilations[i] : 1;
        int64_t pb = (pads && auto_pad == OT_AUTO_PAD_NOTSET) ? pads[i] : 0;
        int64_t pe = (pads && auto_pad == OT_AUTO_PAD_NOTSET) ? pads[n + i] : 0;
        if (x < 0 || x > OT_WINDOW_LIMIT)
            return ot_error(OT_ERR_SHAPE, "spatial dim %d has size %lld", i, (long long)x);
        if (k < 1 || k > OT_WINDOW_LIMIT)
            return ot_error(OT_ERR_SHAPE, "kernel_shape[%d] = %lld must be >= 1", i, (long long)k);
        if (s < 1 || s > OT_WINDOW_LIMIT)
            return ot_error(OT_ERR_SHAPE, "strides[%d] = %lld must be >= 1", i, (long long)s);
        if (d < 1 || d > OT_WINDOW_LIMIT)
            return ot_error(OT_ERR_SHAPE, "dilations[%d] = %lld must be >= 1", i, (long long)d);
        if (pb < 0 || pe < 0 || pb > OT_WINDOW_LIMIT || pe > OT_WINDOW_LIMIT)
            return ot_error(OT_ERR_SHAPE, "pads for spatial dim %d are (%lld, %lld): pads must be >= 0", i,
                            (long long)pb, (long long)pe);
        if ((k - 1) > OT_WINDOW_LIMIT / d)
            return ot_error(OT_ERR_SHAPE, "kernel extent of spatial dim %d is too large", i);
        int64_t dk = (k - 1) * d + 1;
        int64_t o;
        if (auto_pad == OT_AUTO_PAD_SAME_UPPER || auto_pad == OT_AUTO_PAD_SAME_LOWER) {
            o = ceil_div(x, s);
            int64_t total = o > 0 ? (o - 1) * s + dk - x : 0;
            if (total < 0) total = 0;
            int64_t small = total / 2, big = total - small;
            pb = auto_pad == OT_AUTO_PAD_SAME_UPPER ? small : big;
            pe = auto_pad == OT_AUTO_PAD_SAME_UPPER ? big : small;
        } else if (x == 0) {
            o = 0;
        } else {
            int64_t span = x + pb + pe - dk;
            if (span < 0)
                return ot_error(OT_ERR_SHAPE,
                                "spatial dim %d: kernel extent %lld (kernel %lld, dilation %lld) is larger than the "
                                "padded input %lld",
                                i, (long long)dk, (long long)k, (long long)d, (long long)(x + pb + pe));
            if (auto_pad == OT_AUTO_PAD_VALID) {
                o = ceil_mode ? ceil_div(span + 1, s) : span / s + 1;
            } else if (ceil_mode) {
                o = ceil_div(span, s) + 1;
                if ((o - 1) * s >= x + pb) o--;
            } else {
                o = span / s + 1;
            }
        }
        int64_t reach = o > 0 ? (o - 1) * s + dk : 0; /* padded extent the windows touch */
        int64_t extra = reach - (x + pb + pe);
        w->in[i] = x;
        w->kernel[i] = k;
        w->stride[i] = s;
        w->dilation[i] = d;
        w->pad_begin[i] = pb;
        w->pad_end[i] = pe;
        w->extra_end[i] = extra > 0 ? extra : 0;
        w->out[i] = o;
    }
    return OT_OK;
}

int64_t ot_window_out_numel(const ot_window *w) {
    int64_t p = 1;
    for (int i = 0; i < w->n; i++) p *= w->out[i];
    return p;
}
