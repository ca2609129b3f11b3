/* Quantization ops (ops/quant.c): QuantizeLinear / DequantizeLinear in their
 * per-tensor, per-axis and blocked layouts and every output family (8/16-bit,
 * 4/2-bit, float8, float4), DynamicQuantizeLinear, QLinearMatMul and
 * QLinearConv, each against a naive reference written here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "op_harness.h"
#include "src/core/lowprec.h"

static ot_tensor *tf(ot_dtype t, int rank, const int64_t *dims, const double *v) {
    ot_tensor *x;
    ot_tensor_new(t, rank, dims, &x);
    for (int64_t i = 0; i < ot_tensor_numel(x); i++) ot_store_f64(t, x->data, i, v[i]);
    return x;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void test_quantize_per_tensor(void) {
    int64_t d[1] = {8};
    const double xv[8] = {0.0, 1.0, 2.5, 3.5, -1.0, 1000.0, -1000.0, 0.75};
    ot_tensor *x = tf(OT_FLOAT, 1, d, xv), *s = tf(OT_FLOAT, 0, NULL, (double[]){0.5}),
              *z = tf(OT_UINT8, 0, NULL, (double[]){10});
    ot_tensor *in[3] = {x, s, z};
    op_run r;
    CHECK(run_op(&r, "QuantizeLinear", 10, 3, in, 1, NULL, 0) == OT_OK);
    double want[8];
    for (int i = 0; i < 8; i++) want[i] = clampd(nearbyint((float)xv[i] / 0.5f) + 10, 0, 255); /* 1.25->... ties even */
    check_all("q u8", r.out[0], want, 8, 0);
    CHECK(at(r.out[0], 2) == 15 && at(r.out[0], 7) == 12); /* 5 + 10; 1.5 -> 2 (even) + 10 */
    run_free(&r);
    /* no zero point: uint8 */
    CHECK(run_op(&r, "QuantizeLinear", 13, 2, in, 1, NULL, 0) == OT_OK);
    CHECK(r.out[0]->dtype == OT_UINT8 && at(r.out[0], 4) == 0);
    run_free(&r);
    /* output_dtype int4 (21+): range -8..7 */
    attr_spec od[] = {INT("output_dtype", OT_INT4)};
    CHECK(run_op(&r, "QuantizeLinear", 21, 2, in, 1, od, 1) == OT_OK);
    for (int i = 0; i < 8; i++) want[i] = clampd(nearbyint(xv[i] / 0.5), -8, 7);
    check_all("q int4", r.out[0], want, 8, 0);
    run_free(&r);
    CHECK(run_op(&r, "QuantizeLinear", 19, 2, in, 1, od, 1) == OT_ERR_PARSE); /* output_dtype is 21+ */
    run_free(&r);
    /* float8 with saturate 0: 2000 overflows to NaN; saturate 1 clamps to 448 */
    attr_spec f8[] = {INT("output_dtype", OT_FLOAT8E4M3FN), INT("saturate", 0)};
    CHECK(run_op(&r, "QuantizeLinear", 21, 2, in, 1, f8, 2) == OT_OK);
    CHECK(at(r.out[0], 1) == 2.0 && isnan(at(r.out[0], 5)) && at(r.out[0], 2) == 5.0);
    run_free(&r);
    f8[1].i = 1;
    CHECK(run_op(&r, "QuantizeLinear", 21, 2, in, 1, f8, 2) == OT_OK);
    CHECK(at(r.out[0], 5) == 448.0 && at(r.out[0], 6) == -448.0);
    run_free(&r);
    /* float4 with a zero point added before encoding */
    ot_tensor *z4;
    ot_tensor_new((ot_dtype)OT_FLOAT4E2M1, 0, NULL, &z4);
    *(uint8_t *)z4->data = ot_lowprec_encode((ot_dtype)OT_FLOAT4E2M1, 1.0, true, 0);
    ot_tensor *in4[3] = {x, s, z4};
    CHECK(run_op(&r, "QuantizeLinear", 23, 3, in4, 1, NULL, 0) == OT_OK);
    CHECK(at(r.out[0], 0) == 1.0 && at(r.out[0], 1) == 3.0 && at(r.out[0], 5) == 6.0 && at(r.out[0], 4) == -1.0);
    run_free(&r);
    CHECK(run_op(&r, "QuantizeLinear", 21, 3, in4, 1, NULL, 0) == OT_ERR_TYPE); /* float4 is 23+ */
    run_free(&r);
    ot_tensor_free(z4);
    ot_tensor_free(x);
    ot_tensor_free(s);
    ot_tensor_free(z);
}

/* x (2, 3, 4) per channel along axis 1, and blocked along axis 2. */
static void test_quantize_layouts(void) {
    int64_t d[3] = {2, 3, 4}, c[1] = {3};
    double xv[24];
    for (int i = 0; i < 24; i++) xv[i] = rand_unit() * 20;
    ot_tensor *x = tf(OT_FLOAT, 3, d, xv);
    ot_tensor *s = tf(OT_FLOAT, 1, c, (double[]){0.1, 0.5, 2.0}), *z = tf(OT_INT8, 1, c, (double[]){-3, 0, 7});
    ot_tensor *in[3] = {x, s, z};
    op_run r;
    CHECK(run_op(&r, "QuantizeLinear", 13, 3, in, 1, NULL, 0) == OT_OK); /* axis defaults to 1 */
    double want[24];
    const double sv[3] = {0.1, 0.5, 2.0}, zv[3] = {-3, 0, 7};
    for (int i = 0; i < 24; i++) {
        int ch = (i / 4) % 3;
        want[i] = clampd(nearbyint((float)xv[i] / (float)sv[ch]) + zv[ch], -128, 127);
    }
    check_all("per-axis", r.out[0], want, 24, 0);
    run_free(&r);
    CHECK(run_op(&r, "QuantizeLinear", 10, 3, in, 1, NULL, 0) == OT_ERR_SHAPE); /* per-tensor only at 10 */
    run_free(&r);
    attr_spec ax[] = {INT("axis", -1)};
    CHECK(run_op(&r, "QuantizeLinear", 13, 3, in, 1, ax, 1) == OT_ERR_SHAPE); /* 3 scales vs axis length 4 */
    run_free(&r);
    /* blocked along axis 2 with block 3: scale (2, 3, 2), the last block short */
    int64_t bd[3] = {2, 3, 2};
    double bs[12], bz[12];
    for (int i = 0; i < 12; i++) bs[i] = 0.25 + 0.125 * i, bz[i] = (double)(i % 5);
    ot_tensor *sb = tf(OT_FLOAT, 3, bd, bs), *zb = tf(OT_UINT8, 3, bd, bz);
    ot_tensor *inb[3] = {x, sb, zb};
    attr_spec blk[] = {INT("axis", 2), INT("block_size", 3)};
    CHECK(run_op(&r, "QuantizeLinear", 21, 3, inb, 1, blk, 2) == OT_OK);
    for (int i = 0; i < 24; i++) {
        int o = i / 4, k = i % 4, si = o * 2 + k / 3;
        want[i] = clampd(nearbyint((float)xv[i] / (float)bs[si]) + bz[si], 0, 255);
    }
    check_all("blocked q", r.out[0], want, 24, 0);
    /* and back: DequantizeLinear with the same layout */
    ot_tensor *q = r.out[0];
    ot_tensor *dq_in[3] = {q, sb, zb};
    op_run r2;
    CHECK(run_op(&r2, "DequantizeLinear", 21, 3, dq_in, 1, blk, 2) == OT_OK);
    for (int i = 0; i < 24; i++) {
        int o = i / 4, k = i % 4, si = o * 2 + k / 3;
        want[i] = (float)((at(q, i) - bz[si]) * (float)bs[si]);
    }
    check_all("blocked dq", r2.out[0], want, 24, 0);
    run_free(&r2);
    run_free(&r);
    attr_spec blk_bad[] = {INT("axis", 2), INT("block_size", 2)}; /* wants 2 blocks of 2: (2, 3, 2) fits... */
    CHECK(run_op(&r, "QuantizeLinear", 21, 3, inb, 1, blk_bad, 2) == OT_OK);
    run_free(&r);
    blk_bad[1].i = 1; /* 4 blocks: the scale's 2 do not fit */
    CHECK(run_op(&r, "QuantizeLinear", 21, 3, inb, 1, blk_bad, 2) == OT_ERR_SHAPE);
    run_free(&r);
    ot_tensor_free(sb);
    ot_tensor_free(zb);
    ot_tensor_free(x);
    ot_tensor_free(s);
    ot_tensor_free(z);
}

static void test_dequantize(void) {
    int64_t d[1] = {5};
    ot_tensor *x = tf(OT_INT32, 1, d, (double[]){-100000, 0, 3, 16777217, -5});
    ot_tensor *s = tf(OT_FLOAT, 0, NULL, (double[]){0.5}), *z = tf(OT_INT32, 0, NULL, (double[]){3});
    ot_tensor *in[3] = {x, s, z};
    op_run r;
    CHECK(run_op(&r, "DequantizeLinear", 10, 3, in, 1, NULL, 0) == OT_OK);
    const double want[5] = {-50001.5, -1.5, 0, (16777216.0 - 3) * 0.5, -4};
    check_all("dq int32", r.out[0], want, 5, 0);
    run_free(&r);
    /* uint4 to float16 through output_dtype (23+) */
    ot_tensor *x4 = tf((ot_dtype)OT_UINT4, 1, d, (double[]){0, 1, 7, 15, 8}), *z4 = tf((ot_dtype)OT_UINT4, 0, NULL, (double[]){8});
    ot_tensor *in4[3] = {x4, s, z4};
    attr_spec od[] = {INT("output_dtype", OT_FLOAT16)};
    CHECK(run_op(&r, "DequantizeLinear", 23, 3, in4, 1, od, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_FLOAT16);
    check_all("dq uint4", r.out[0], (double[]){-4, -3.5, -0.5, 3.5, 0}, 5, 0);
    run_free(&r);
    CHECK(run_op(&r, "DequantizeLinear", 21, 3, in4, 1, od, 1) == OT_ERR_PARSE); /* output_dtype is 23+ for DQ */
    run_free(&r);
    /* float8 input: the zero point must be zero */
    ot_tensor *x8 = tf((ot_dtype)OT_FLOAT8E5M2, 1, d, (double[]){1, -2, 57344, 0.5, 3});
    ot_tensor *z8 = tf((ot_dtype)OT_FLOAT8E5M2, 0, NULL, (double[]){0});
    ot_tensor *in8[3] = {x8, s, z8};
    CHECK(run_op(&r, "DequantizeLinear", 19, 3, in8, 1, NULL, 0) == OT_OK);
    check_all("dq e5m2", r.out[0], (double[]){0.5, -1, 28672, 0.25, 1.5}, 5, 0);
    run_free(&r);
    ot_store_f64(z8->dtype, z8->data, 0, 1.0);
    CHECK(run_op(&r, "DequantizeLinear", 19, 3, in8, 1, NULL, 0) == OT_ERR_INVALID_ARG);
    run_free(&r);
    /* float8e8m0 scale (24+) needs output_dtype */
    ot_tensor *se = tf((ot_dtype)OT_FLOAT8E8M0, 0, NULL, (double[]){0.25});
    ot_tensor *ine[2] = {x4, se};
    CHECK(run_op(&r, "DequantizeLinear", 24, 2, ine, 1, NULL, 0) == OT_ERR_TYPE);
    run_free(&r);
    attr_spec of[] = {INT("output_dtype", OT_FLOAT)};
    CHECK(run_op(&r, "DequantizeLinear", 24, 2, ine, 1, of, 1) == OT_OK);
    check_all("dq e8m0 scale", r.out[0], (double[]){0, 0.25, 1.75, 3.75, 2}, 5, 0);
    run_free(&r);
    ot_tensor *objs[] = {x, s, z, x4, z4, x8, z8, se};
    for (int i = 0; i < 8; i++) ot_tensor_free(objs[i]);
}

static void test_dynamic(void) {
    int64_t d[1] = {6};
    const double xv[6] = {0.5, -2.0, 3.0, 1.25, 0.0, -0.3};
    ot_tensor *x = tf(OT_FLOAT, 1, d, xv);
    op_run r;
    CHECK(run_op(&r, "DynamicQuantizeLinear", 11, 1, &x, 3, NULL, 0) == OT_OK);
    float scale = (3.0f - -2.0f) / 255.0f, zp = nearbyintf(clampd(0.0f - -2.0f / scale, 0, 255));
    CHECK(*(float *)r.out[1]->data == scale && at(r.out[2], 0) == zp);
    double want[6];
    for (int i = 0; i < 6; i++) want[i] = clampd(nearbyintf((float)xv[i] / scale) + zp, 0, 255);
    check_all("dynq", r.out[0], want, 6, 0);
    run_free(&r);
    ot_tensor_free(x);
}

static void test_qlinear_matmul(void) {
    /* a (2, 2, 3) int8, b (3, 4) uint8 with per-column scale and zero point */
    int64_t ad[3] = {2, 2, 3}, bd[2] = {3, 4}, n4[1] = {4};
    double av[12], bv[12];
    for (int i = 0; i < 12; i++) av[i] = (double)((i * 37) % 255 - 127), bv[i] = (double)((i * 53) % 256);
    ot_tensor *a = tf(OT_INT8, 3, ad, av), *b = tf(OT_UINT8, 2, bd, bv);
    ot_tensor *as = tf(OT_FLOAT, 0, NULL, (double[]){0.02}), *az = tf(OT_INT8, 0, NULL, (double[]){-1});
    ot_tensor *bs = tf(OT_FLOAT, 1, n4, (double[]){0.01, 0.02, 0.03, 0.04}), *bz = tf(OT_UINT8, 1, n4, (double[]){128, 100, 0, 255});
    ot_tensor *ys = tf(OT_FLOAT, 0, NULL, (double[]){0.5}), *yz = tf(OT_UINT8, 0, NULL, (double[]){120});
    ot_tensor *in[8] = {a, as, az, b, bs, bz, ys, yz};
    op_run r;
    CHECK(run_op(&r, "QLinearMatMul", 10, 8, in, 1, NULL, 0) == OT_OK);
    double want[16];
    const double bsv[4] = {0.01, 0.02, 0.03, 0.04}, bzv[4] = {128, 100, 0, 255};
    for (int bt = 0; bt < 2; bt++)
        for (int m = 0; m < 2; m++)
            for (int n = 0; n < 4; n++) {
                double acc = 0;
                for (int k = 0; k < 3; k++) acc += (av[(bt * 2 + m) * 3 + k] + 1) * (bv[k * 4 + n] - bzv[n]);
                float mul = (float)0.02 * (float)bsv[n];
                mul = mul / (float)0.5;
                want[(bt * 2 + m) * 4 + n] = clampd(nearbyint(acc * mul + 120), 0, 255);
            }
    check_all("qlinearmatmul", r.out[0], want, 16, 0);
    CHECK(r.out[0]->rank == 3 && r.out[0]->dims[2] == 4);
    run_free(&r);
    ot_tensor *objs[] = {a, b, as, az, bs, bz, ys, yz};
    for (int i = 0; i < 8; i++) ot_tensor_free(objs[i]);
}

static void test_qlinear_conv(void) {
    /* x (1, 1, 4, 4) uint8, w (2, 1, 2, 2) int8, stride 1, pads 1 on the begin side only */
    int64_t xd[4] = {1, 1, 4, 4}, wd[4] = {2, 1, 2, 2}, two[1] = {2};
    double xv[16], wv[8];
    for (int i = 0; i < 16; i++) xv[i] = (double)((i * 29) % 256);
    for (int i = 0; i < 8; i++) wv[i] = (double)((i * 45) % 256 - 128);
    ot_tensor *x = tf(OT_UINT8, 4, xd, xv), *w = tf(OT_INT8, 4, wd, wv);
    ot_tensor *xs = tf(OT_FLOAT, 0, NULL, (double[]){0.05}), *xz = tf(OT_UINT8, 0, NULL, (double[]){100});
    ot_tensor *ws = tf(OT_FLOAT, 1, two, (double[]){0.01, 0.002}), *wz = tf(OT_INT8, 0, NULL, (double[]){0});
    ot_tensor *ys = tf(OT_FLOAT, 0, NULL, (double[]){0.25}), *yz = tf(OT_UINT8, 0, NULL, (double[]){128});
    ot_tensor *bias = tf(OT_INT32, 1, two, (double[]){1000, -2000});
    ot_tensor *in[9] = {x, xs, xz, w, ws, wz, ys, yz, bias};
    attr_spec at[] = {INTS("pads", 1, 1, 0, 0)};
    op_run r;
    CHECK(run_op(&r, "QLinearConv", 10, 9, in, 1, at, 1) == OT_OK);
    CHECK(r.out[0]->dtype == OT_UINT8 && r.out[0]->dims[1] == 2 && r.out[0]->dims[2] == 4 && r.out[0]->dims[3] == 4);
    double want[32];
    const double wsv[2] = {0.01, 0.002}, bv[2] = {1000, -2000};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                double acc = bv[m];
                for (int ki = 0; ki < 2; ki++)
                    for (int kj = 0; kj < 2; kj++) {
                        int yi = i + ki - 1, xj = j + kj - 1;
                        double xx = (yi < 0 || xj < 0) ? 0 : xv[yi * 4 + xj] - 100; /* pads hold the zero point */
                        acc += xx * wv[m * 4 + ki * 2 + kj];
                    }
                float mul = (float)0.05 * (float)wsv[m];
                mul = mul / 0.25f;
                want[m * 16 + i * 4 + j] = clampd(nearbyint(acc * mul + 128), 0, 255);
            }
    check_all("qlinearconv", r.out[0], want, 32, 0);
    run_free(&r);
    ot_tensor *objs[] = {x, w, xs, xz, ws, wz, ys, yz, bias};
    for (int i = 0; i < 9; i++) ot_tensor_free(objs[i]);
}

int main(void) {
    test_quantize_per_tensor();
    test_quantize_layouts();
    test_dequantize();
    test_dynamic();
    test_qlinear_matmul();
    test_qlinear_conv();
    return check_done();
}
