/* Gradient checks for the shape family. */
#include "gradcheck.h"

static const int64_t shape_6[] = {6}, shape_3_2[] = {3, 2};
static const int64_t axes_1[] = {1};

static const gc_case cases[] = {
    {.name = "reshape_2x3_to_6", .op = "Reshape", .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, 0, 2, {2, 3}}, {GC_CONST, OT_INT64, 1, {1}, shape_6}}},
    {.name = "reshape_2x3_to_3x2", .op = "Reshape", .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, 0, 2, {2, 3}}, {GC_CONST, OT_INT64, 1, {2}, shape_3_2}}},
    {.name = "flatten_axis2", .op = "Flatten", .n_in = 1, .n_out = 1, .in = {{GC_DIFF, 0, 3, {2, 3, 2}}},
     .n_attrs = 1, .attrs = {{.name = "axis", .type = OT_ATTR_INT, .i = 2}}},
    {.name = "unsqueeze_axis1_opset13", .op = "Unsqueeze", .opset = 13, .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, 0, 2, {2, 3}}, {GC_CONST, OT_INT64, 1, {1}, axes_1}}},
    {.name = "squeeze_axis1_opset11", .op = "Squeeze", .opset = 11, .n_in = 1, .n_out = 1, .in = {{GC_DIFF, 0, 3, {2, 1, 3}}},
     .n_attrs = 1, .attrs = {{.name = "axes", .type = OT_ATTR_INTS, .ints = axes_1, .n = 1}}},
};

int main(void) { return gc_run_all(cases, sizeof cases / sizeof cases[0]); }
