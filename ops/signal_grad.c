/* Gradient rules of the signal family.  A DFT is linear in its input, so its
 * gradient is its adjoint applied to dy: a DFT of the opposite sign with the
 * forward's padding / cropping and one-sided / Hermitian handling transposed
 * (DFTGrad).  An STFT is linear in its signal too: the adjoint transforms
 * each frame of dy back and overlap-adds it, times the window (STFTGrad,
 * which also gives the window's gradient when one is asked for).  Both grad
 * ops take the forward's own shape-deciding inputs (dft_length, axis,
 * frame_step, frame_length), so they resolve them exactly as the forward
 * did.  HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix are
 * constants of their integer inputs: no rule. */
#include <string.h>

#include "grad.h"

/* y = DFT(x, dft_length?, axis?): dx = DFTGrad(dy, dft_length?, axis?). */
ot_status ot_dft_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0), dx;
    if (dy < 0 || !ot_grad_needs(g, 0)) return OT_OK;
    const ot_node *n = ot_grad_node(g);
    int64_t opset = ot_grad_opset(g), inverse, onesided, axis;
    OT_TRY(ot_attr_get_int(n, "inverse", 0, &inverse));
    OT_TRY(ot_attr_get_int(n, "onesided", 0, &onesided));
    OT_TRY(ot_attr_get_int(n, "axis", opset >= 20 ? -2 : 1, &axis));
    ot_grad_shape x = ot_grad_shape_of(g, ot_grad_x(g, 0));
    int in[3] = {dy, ot_grad_x(g, 1), opset >= 20 ? ot_grad_x(g, 2) : -1};
    int n_in = in[2] >= 0 ? 3 : in[1] >= 0 ? 2 : 1;
    ot_grad_attr at[4] = {{.name = "shape", .type = OT_ATTR_INTS, .ints = x.dims, .n = x.rank},
                          {.name = "axis", .type = OT_ATTR_INT, .i = axis},
                          {.name = "inverse", .type = OT_ATTR_INT, .i = inverse},
                          {.name = "onesided", .type = OT_ATTR_INT, .i = onesided}};
    OT_TRY(ot_grad_emit(g, "DFTGrad", OT_DOMAIN_TRAIN, n_in, in, 1, &dx, 4, at));
    return ot_grad_set(g, 0, dx);
}

/* y = STFT(signal, frame_step, window?, frame_length?):
   dsignal[, dwindow] = STFTGrad(dy, frame_step, window?, frame_length?[, signal]). */
ot_status ot_stft_grad_rule(ot_grad_ctx *g) {
    int dy = ot_grad_dy(g, 0);
    bool want_x = ot_grad_needs(g, 0), want_w = ot_grad_x(g, 2) >= 0 && ot_grad_needs(g, 2);
    if (dy < 0 || (!want_x && !want_w)) return OT_OK;
    const ot_node *n = ot_grad_node(g);
    int64_t onesided;
    OT_TRY(ot_attr_get_int(n, "onesided", 1, &onesided));
    ot_grad_shape x = ot_grad_shape_of(g, ot_grad_x(g, 0));
    int in[5] = {dy, ot_grad_x(g, 1), ot_grad_x(g, 2), ot_grad_x(g, 3), want_w ? ot_grad_x(g, 0) : -1}, out[2];
    int n_in = 5;
    while (n_in > 2 && in[n_in - 1] < 0) n_in--;
    ot_grad_attr at[2] = {{.name = "shape", .type = OT_ATTR_INTS, .ints = x.dims, .n = x.rank},
                          {.name = "onesided", .type = OT_ATTR_INT, .i = onesided}};
    OT_TRY(ot_grad_emit(g, "STFTGrad", OT_DOMAIN_TRAIN, n_in, in, want_w ? 2 : 1, out, 2, at));
    if (want_x) OT_TRY(ot_grad_set(g, 0, out[0]));
    if (want_w) OT_TRY(ot_grad_set(g, 2, out[1]));
    return OT_OK;
}
