/* CPU kernels of the signal family: discrete Fourier transforms along one
 * axis (DFT and its adjoint), short-time Fourier transforms (STFT and its
 * adjoint), and the window / mel filterbank generators.
 *
 * FFT algorithm, by transform length n:
 *   - n whose prime factors are all <= 64: a mixed-radix Stockham FFT (out of
 *     place, natural order, no bit reversal) with radix-4, 2, 3 and 5
 *     butterflies and a generic O(p^2) one for the other primes up to 64 (a
 *     prime n <= 64 is thus the direct sum over exact twiddles);
 *   - other n: Bluestein's chirp-z transform, i.e. a circular convolution done
 *     with power-of-two FFTs of length m >= 2n - 1 (O(n log n) for every n,
 *     large primes included).
 * All arithmetic is double precision whatever the tensor's dtype: float32,
 * float16 and bfloat16 are converted as they are gathered and stored (scalar
 * butterflies cost the same in double, and the error stays ~1e-16 * log n).
 * Twiddles and chirps are computed with cos/sin of exact integer angles
 * (k mod n, k^2 mod 2n), never by recurrence.  Two transforms share one
 * complex transform where half the data is redundant: two real inputs run
 * as x1 + i x2 and are separated by conjugate symmetry; two whose output is
 * real (IRFFT, the adjoint of a real-input DFT or STFT) run on H1 + i H2,
 * H the Hermitian part of each input, and come out as the real and
 * imaginary parts.
 *
 * Independent transforms run in parallel (OpenMP), each thread with its own
 * scratch; results never depend on the thread count.  Scratch comes from
 * ot_workspace_alloc (no allocation in a steady-state step). */
#ifndef OT_KERNELS_CPU_SIGNAL_H
#define OT_KERNELS_CPU_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxtrain.h"

/* One batch of 1-D transforms along an axis.  x is viewed as
   (outer, len_in, inner, c_in) and y as (outer, len_out, inner, c_out);
   c = 1 holds real values, c = 2 (re, im) pairs.  Per (outer, inner) item:
     z[t] = x[t] for t < min(len_in, n), 0 for the rest of [0, n)
            (hermitian_in: x holds bins 0..n/2 of a Hermitian spectrum; the
             full spectrum is z[n-k] = conj(z[k]), with Im z[0] and, n even,
             Im z[n/2] ignored: numpy's irfft);
     Z[k] = scale * sum_t z[t] e^{sign 2 pi i k t / n};
     y[k] = Z[k] for k < min(len_out, n), 0 beyond n
            (half_out: y[k] = w_k Z[k] for k <= n/2 with w = 1 at DC and at
             Nyquist (n even), 2 elsewhere, imaginary parts of those two bins
             zeroed, and 0 beyond n/2: the adjoint of the Hermitian load);
     c_out = 1 keeps the real part. */
typedef struct ot_dft_args {
    ot_dtype dtype; /* of x and y: float, double, float16, bfloat16 */
    const void *x;
    void *y;
    int64_t outer, inner;
    int64_t len_in, len_out, n;
    int c_in, c_out;
    int sign;       /* -1: forward DFT, +1: inverse (unnormalised) */
    double scale;
    bool hermitian_in;
    bool half_out;
} ot_dft_args;

/* The arguments of ONNX DFT on an input of shape dims (rank >= 2, the last
   dim 1 or 2), axis in [0, rank - 2] and transform length n (x, y unset).
   Output shape: dims with dims[axis] = a->len_out and the last dim a->c_out. */
void ot_dft_forward_args(ot_dtype dt, int rank, const int64_t *dims, int axis, int64_t n, bool inverse, bool onesided,
                         ot_dft_args *a);
/* The adjoint (transpose, as a real-linear map) of a forward DFT's args:
   it maps a gradient shaped like the forward's y to one shaped like its x. */
void ot_dft_adjoint_args(const ot_dft_args *fwd, ot_dft_args *adj);

/* Workspace bytes ot_cpu_dft asks for (for infer's ot_workspace_request). */
size_t ot_dft_scratch_bytes(const ot_dft_args *a);
/* OT_ERR_NOMEM when its scratch cannot be had. */
ot_status ot_cpu_dft(const ot_dft_args *a);

/* STFT of a signal (batch, length, c) with a window of n samples (NULL: all
   ones): frame f of item b is x[b, f * step + j] * window[j], j < n, and
   y[b, f, k] (batch, frames, bins, 2) its DFT's bins k < bins (n / 2 + 1 when
   one-sided, else n).  frames * step - step + n <= length. */
typedef struct ot_stft_args {
    ot_dtype dtype;
    const void *x, *window;
    void *y;
    int64_t batch, length, frames, step, n, bins;
    int c;
} ot_stft_args;
size_t ot_stft_scratch_bytes(const ot_stft_args *a);
ot_status ot_cpu_stft(const ot_stft_args *a);

/* The STFT's adjoint: from dy (batch, frames, bins, 2) computes
   dx (batch, length, c) (when non-NULL; zero where no frame reaches) and
   dwindow (n) (when non-NULL; needs x).  Sums run in a fixed order. */
typedef struct ot_stft_grad_args {
    ot_dtype dtype;
    const void *dy, *window, *x;
    void *dx, *dwindow;
    int64_t batch, length, frames, step, n, bins;
    int c;
} ot_stft_grad_args;
size_t ot_stft_grad_scratch_bytes(const ot_stft_grad_args *a);
ot_status ot_cpu_stft_grad(const ot_stft_grad_args *a);

/* HannWindow, HammingWindow (alpha = 25/46), BlackmanWindow: size values
   w[k] = f(2 pi k / N), N = size (periodic) or size - 1 (symmetric; a
   symmetric window of one sample is [1], as in PyTorch), computed in double
   and stored as dt (any numeric type, converted as a C cast). */
typedef enum ot_window_kind { OT_WINDOW_HANN, OT_WINDOW_HAMMING, OT_WINDOW_BLACKMAN } ot_window_kind;
void ot_cpu_window(ot_window_kind kind, bool periodic, int64_t size, ot_dtype dt, void *y);

/* MelWeightMatrix, as the ONNX reference computes it: num_mel_bins + 2 band
   edges equally spaced on the mel scale from low_mel in steps of mel_step,
   mapped to spectrogram bins floor((dft_length + 1) * hz / sample_rate);
   filter i is a triangle rising from edge i to 1 at edge i + 1 and falling
   to edge i + 2.  y is (dft_length / 2 + 1, num_mel_bins) of dtype dt.
   OT_ERR_INVALID_ARG (with a message) when a filter reaches a bin outside
   the spectrogram. */
typedef struct ot_mel_args {
    int64_t num_mel_bins, dft_length, sample_rate;
    double low_mel, mel_step;
    ot_dtype dtype;
    void *y;
} ot_mel_args;
ot_status ot_cpu_mel_weight_matrix(const ot_mel_args *a);

#endif
