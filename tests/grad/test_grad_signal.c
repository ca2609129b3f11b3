/* Gradient checks for the signal family.  DFT: every mode (forward, inverse,
 * one-sided forward (RFFT) and inverse (IRFFT) with even and odd lengths),
 * real and complex inputs, dft_length padding and truncation, axes with
 * strided items, lengths on the radix-2, direct and Bluestein paths, the
 * opset-17 axis attribute and the opset-20 axis input (and its default).
 * STFT: real and complex signals, with and without a window (the window's
 * own gradient too), one- and two-sided, frame_length given, overlapping
 * frames and gaps between them. */
#include "gradcheck.h"

/* An absent input (the 0-D constant CI0 is gradcheck.h's). */
#define NONE {GC_ABSENT}

/* DFT at opset 17: x, dft_length?, attributes. */
#define DFT17(nm, x, len, na, ...) {.name = nm, .op = "DFT", .opset = 17, .n_in = 2, .n_out = 1, .in = {x, len}, \
                                    .n_attrs = na, .attrs = {__VA_ARGS__}}
/* DFT at opset 20: x, dft_length?, axis?, attributes. */
#define DFT20(nm, x, len, ax, na, ...) {.name = nm, .op = "DFT", .opset = 20, .n_in = 3, .n_out = 1, \
                                        .in = {x, len, ax}, .n_attrs = na, .attrs = {__VA_ARGS__}}
#define STFT(nm, x, step, w, len, na, ...) {.name = nm, .op = "STFT", .opset = 17, .n_in = 4, .n_out = 1, \
                                            .in = {x, step, w, len}, .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case cases[] = {
    /* DFT-17, axis attribute (default 1) */
    DFT17("dft_real_forward", D(2, 6, 1), NONE, 0, AI("", 0)),
    DFT17("dft_complex_forward", D(2, 5, 2), NONE, 0, AI("", 0)),
    DFT17("dft_rfft_even", D(3, 8, 1), NONE, 1, AI("onesided", 1)),
    DFT17("dft_rfft_odd", D(2, 7, 1), NONE, 1, AI("onesided", 1)),
    DFT17("dft_rfft_complex_input", D(2, 6, 2), NONE, 1, AI("onesided", 1)),
    DFT17("dft_inverse_complex", D(2, 6, 2), NONE, 1, AI("inverse", 1)),
    DFT17("dft_inverse_real", D(2, 5, 1), NONE, 1, AI("inverse", 1)),
    DFT17("dft_irfft_default_length", D(2, 5, 2), NONE, 2, AI("inverse", 1), AI("onesided", 1)),
    DFT17("dft_irfft_odd_length", D(2, 4, 2), CI0(7), 2, AI("inverse", 1), AI("onesided", 1)),
    DFT17("dft_irfft_fewer_bins", D(2, 3, 2), CI0(10), 2, AI("inverse", 1), AI("onesided", 1)),
    DFT17("dft_irfft_more_bins", D(2, 7, 2), CI0(6), 2, AI("inverse", 1), AI("onesided", 1)),
    DFT17("dft_irfft_real_input", D(2, 5, 1), CI0(8), 2, AI("inverse", 1), AI("onesided", 1)),
    DFT17("dft_pad", D(2, 5, 2), CI0(9), 0, AI("", 0)),
    DFT17("dft_truncate", D(2, 9, 1), CI0(4), 0, AI("", 0)),
    DFT17("dft_rfft_pad_odd", D(2, 4, 1), CI0(11), 1, AI("onesided", 1)),
    DFT17("dft_inverse_truncate", D(2, 8, 2), CI0(5), 1, AI("inverse", 1)),
    DFT17("dft_axis2_strided", D(2, 3, 5, 2), NONE, 1, AI("axis", 2)),
    DFT17("dft_axis0", D(4, 3, 1), NONE, 1, AI("axis", 0)),
    DFT17("dft_axis_negative", D(3, 4, 6, 1), NONE, 2, AI("axis", -3), AI("onesided", 1)),
    DFT17("dft_bluestein_33", D(1, 33, 2), NONE, 0, AI("", 0)),
    DFT17("dft_bluestein_rfft_37", D(2, 37, 1), NONE, 1, AI("onesided", 1)),
    DFT17("dft_bluestein_irfft_70", D(1, 36, 2), NONE, 2, AI("inverse", 1), AI("onesided", 1)),
    DFT17("dft_radix2_64", D(1, 64, 2), NONE, 1, AI("inverse", 1)),
    /* DFT-20, axis input (default -2) */
    DFT20("dft20_default_axis", D(2, 3, 6, 1), NONE, NONE, 0, AI("", 0)),
    DFT20("dft20_axis_input", D(2, 5, 3, 2), NONE, CI0(1), 1, AI("inverse", 1)),
    DFT20("dft20_axis_input_negative", D(2, 5, 3, 1), CI0(8), CI0(-3), 1, AI("onesided", 1)),
    DFT20("dft20_irfft_axis2", D(2, 3, 4, 2), CI0(6), CI0(2), 2, AI("inverse", 1), AI("onesided", 1)),

    /* STFT (onesided defaults to 1) */
    STFT("stft_real_window", D(2, 20, 1), CI0(4), D(8), NONE, 0, AI("", 0)),
    STFT("stft_real_window_two_sided", D(1, 20, 1), CI0(3), D(6), CI0(6), 1, AI("onesided", 0)),
    STFT("stft_complex_window", D(2, 15, 2), CI0(5), D(5), NONE, 1, AI("onesided", 0)),
    STFT("stft_complex_onesided", D(1, 17, 2), CI0(4), D(8), NONE, 0, AI("", 0)),
    STFT("stft_no_window", D(2, 16, 1), CI0(4), NONE, CI0(8), 0, AI("", 0)),
    STFT("stft_no_window_default_length", D(2, 12, 1), CI0(5), NONE, NONE, 1, AI("onesided", 0)),
    STFT("stft_window_nodiff", D(2, 18, 1), CI0(2), ND(7), NONE, 0, AI("", 0)),
    STFT("stft_gaps", D(1, 30, 1), CI0(9), D(4), NONE, 0, AI("", 0)),
    STFT("stft_bluestein_frame", D(1, 50, 1), CI0(8), D(34), NONE, 0, AI("", 0)),
    STFT("stft_float_inputs_nodiff_signal", ND(1, 20, 1), CI0(4), D(8), NONE, 0, AI("", 0)),
};

int main(void) { return gc_run_all(cases, (int)(sizeof cases / sizeof cases[0])); }
