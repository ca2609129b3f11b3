/* CPU kernels of the resize family: Resize / Upsample (separable N-D
 * interpolation) and its transpose, GridSample and AffineGrid and theirs.
 *
 * Resize semantics are the ONNX reference implementation's (op_resize.py):
 *  - each axis is resampled on its own; an output index o maps to a source
 *    coordinate x (the coordinate transformation mode), and the value is a
 *    weighted sum of taps around x whose indices are clamped into [0, in)
 *    (edge padding), or dropped and the weights renormalised
 *    (exclude_outside: linear and cubic; nearest's one tap is always read);
 *  - nearest: one tap (nearest_mode); linear: 2 taps; cubic: 4 taps of the
 *    Keys kernel with coefficient a; antialias stretches the linear / cubic
 *    kernel by 1 / scale when downsampling (normalised weights);
 *  - tf_crop_and_resize: an output whose coordinate falls outside
 *    [0, in - 1] on any axis is extrapolation_value;
 *  - "output_width" in the align_corners / tf_crop_and_resize /
 *    half_pixel_symmetric formulas is scale * in (a real number), the
 *    "length_resized > 1" tests use the integer output length.
 * An axis whose scale is 1 with an unchanged length (and a full roi) is left
 * alone.  Integer outputs of linear / cubic are rounded half to even and
 * saturated; float16 / bfloat16 are computed in float32, integers in double.
 *
 * The gradient (ot_cpu_resize_grad) is the exact transpose of the forward's
 * linear map: every output's dy goes back to the taps that made it, with
 * the same weights; extrapolated outputs send nothing.  It runs as gathers
 * over per-axis transposed tables, so it is race-free and deterministic. */
#ifndef OT_KERNELS_CPU_RESIZE_H
#define OT_KERNELS_CPU_RESIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxtrain.h"

typedef enum ot_resize_mode { OT_RESIZE_NEAREST, OT_RESIZE_LINEAR, OT_RESIZE_CUBIC } ot_resize_mode;

typedef enum ot_resize_coord {
    OT_RESIZE_HALF_PIXEL,
    OT_RESIZE_HALF_PIXEL_SYMMETRIC, /* opset 19 */
    OT_RESIZE_PYTORCH_HALF_PIXEL,
    OT_RESIZE_ALIGN_CORNERS,
    OT_RESIZE_ASYMMETRIC,
    OT_RESIZE_TF_HALF_PIXEL_FOR_NN, /* opset 11 only */
    OT_RESIZE_TF_CROP_AND_RESIZE
} ot_resize_coord;

typedef enum ot_resize_nearest {
    OT_RESIZE_ROUND_PREFER_FLOOR,
    OT_RESIZE_ROUND_PREFER_CEIL,
    OT_RESIZE_FLOOR,
    OT_RESIZE_CEIL,
    /* Upsample and Resize-10 (no nearest_mode yet): floor when upsampling,
       ceil when downsampling, as ONNX Runtime does */
    OT_RESIZE_SIMPLE
} ot_resize_nearest;

typedef struct ot_resize_axis {
    int64_t in, out;
    double scale;              /* of the coordinate transformation: as given, or out / in from sizes */
    double roi_start, roi_end; /* tf_crop_and_resize (normalised); 0 and 1 otherwise */
} ot_resize_axis;

/* Everything a resize needs, resolved from attributes and the roi / scales /
   sizes inputs (ops/resize.c). */
typedef struct ot_resize_spec {
    int rank;
    ot_resize_axis ax[OT_MAX_RANK];
    ot_resize_mode mode;
    ot_resize_coord coord;
    ot_resize_nearest nearest;
    double cubic_a;
    double extrapolation;
    bool exclude_outside;
    bool antialias; /* linear and cubic only */
} ot_resize_spec;

/* Element types: nearest any numeric type (bool included); linear and cubic
   the float types and integers.  The gradient: the four float types. */
bool ot_cpu_resize_dtype_ok(ot_resize_mode mode, ot_dtype dt);
/* Scratch (bytes) that ot_cpu_resize / ot_cpu_resize_grad ask for: for infer's
   ot_workspace_request. */
size_t ot_cpu_resize_workspace(const ot_resize_spec *s, ot_dtype dt, bool grad);
/* x (ax[i].in...) -> y (ax[i].out...).  OT_ERR_NOMEM when scratch fails. */
ot_status ot_cpu_resize(const ot_resize_spec *s, ot_dtype dt, const void *x, void *y);
/* dy (ax[i].out...) -> dx (ax[i].in...), overwritten. */
ot_status ot_cpu_resize_grad(const ot_resize_spec *s, ot_dtype dt, const void *dy, void *dx);

/* ---- GridSample and AffineGrid (kernels/cpu/resize_grid.c) ------------------
 *
 * GridSample follows the ONNX reference (op_grid_sample.py) and ONNX
 * Runtime: grid (N, O_1..O_r, r) holds normalised coordinates listed
 * innermost axis first; a coordinate is denormalised (align_corners: -1 and
 * 1 are the corner pixels' centres, else their outer edges); for nearest
 * and linear, outside [x_min, x_max] (the centres' or the edges' span) the
 * border mode clamps it into [0, d - 1] and the reflection mode reflects it
 * back; then nearest (round half to even), linear (2 taps an axis) or cubic
 * (4 taps, a = -0.75) reads taps, a tap outside [0, d) being 0 (zeros),
 * clamped (border) or reflected (reflection).  Cubic pads its taps only,
 * never the coordinate: PyTorch's and ONNX Runtime's rule (the reference
 * clamps the coordinate too; the two differ only for cubic with border or
 * reflection).  Gradients: dX is the transpose; dgrid differentiates the
 * interpolation weights and the coordinate transformation (0 where border
 * clamps, sign flips where reflection reflects; 0 for nearest), as PyTorch. */
typedef enum ot_grid_mode { OT_GRID_NEAREST, OT_GRID_LINEAR, OT_GRID_CUBIC } ot_grid_mode;
typedef enum ot_grid_padding { OT_GRID_ZEROS, OT_GRID_BORDER, OT_GRID_REFLECTION } ot_grid_padding;

typedef struct ot_grid_spec {
    int r;                       /* spatial dims, 1..OT_MAX_RANK - 2 */
    int64_t N, C;
    int64_t in[OT_MAX_RANK];     /* X's spatial dims */
    int64_t out[OT_MAX_RANK];    /* grid's / Y's spatial dims */
    ot_grid_mode mode;
    ot_grid_padding padding;
    bool align_corners;
} ot_grid_spec;

/* X dtypes: the four float types and integers (computed in double, the
   result truncated toward zero and saturated, as the reference's cast);
   grid: float32, float64, float16.  Gradients: float types. */
bool ot_cpu_grid_sample_dtype_ok(ot_dtype x, ot_dtype grid);
size_t ot_cpu_grid_sample_workspace(const ot_grid_spec *s, ot_dtype x, ot_dtype grid);
/* x (N, C, in...), grid (N, out..., r) -> y (N, C, out...). */
ot_status ot_cpu_grid_sample(const ot_grid_spec *s, ot_dtype xt, const void *x, ot_dtype gt, const void *grid,
                             void *y);
/* dy (N, C, out...) -> dx (N, C, in...), overwritten. */
ot_status ot_cpu_grid_sample_grad_x(const ot_grid_spec *s, ot_dtype xt, ot_dtype gt, const void *grid,
                                    const void *dy, void *dx);
/* dy -> dgrid (N, out..., r) of grid's dtype, overwritten (x: X's dtype). */
ot_status ot_cpu_grid_sample_grad_grid(const ot_grid_spec *s, ot_dtype xt, const void *x, ot_dtype gt,
                                       const void *grid, const void *dy, void *dgrid);

/* AffineGrid: theta (N, r, r + 1) and the spatial size (r = 2: H, W; r = 3:
   D, H, W) -> grid (N, size..., r), base coordinates listed innermost axis
   first (x, y[, z]) and the homogeneous 1 last.  Float types. */
void ot_cpu_affine_grid(ot_dtype dt, int r, int64_t N, const int64_t *size, bool align_corners, const void *theta,
                        void *grid);
/* dgrid (N, size..., r) -> dtheta (N, r, r + 1), overwritten. */
void ot_cpu_affine_grid_grad(ot_dtype dt, int r, int64_t N, const int64_t *size, bool align_corners,
                             const void *dgrid, void *dtheta);

#endif
