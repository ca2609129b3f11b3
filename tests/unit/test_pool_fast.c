/* The 2x2/stride-2 MaxPool fast path against the generic kernel (forward: the
 * generic path runs when Indices are requested) and against a naive gradient
 * (first maximum in scan order, first NaN wins), with ties, NaNs and odd sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/pool_fast.h"

static void case_run(int64_t NC, int64_t H, int64_t W, unsigned seed) {
    int64_t in[2] = {H, W}, k[2] = {2, 2}, s[2] = {2, 2};
    ot_window w;
    CHECK(ot_window_compute(&w, 2, in, k, s, NULL, NULL, OT_AUTO_PAD_NOTSET, false) == OT_OK);
    CHECK(ot_pool_is_2x2s2(&w));
    int64_t n = NC * H * W, m = NC * w.out[0] * w.out[1];
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)m);
    float *yg = malloc(sizeof(float) * (size_t)m), *dy = malloc(sizeof(float) * (size_t)m);
    float *dx = malloc(sizeof(float) * (size_t)n), *ref = calloc((size_t)n, sizeof(float));
    int64_t *ind = malloc(sizeof(int64_t) * (size_t)m);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 16) % 5) - 2.0f; /* few distinct values: many ties */
        if ((seed >> 8) % 97 == 0) x[i] = NAN;
    }
    for (int64_t i = 0; i < m; i++) dy[i] = (float)(i % 7) + 0.5f;
    ot_cpu_maxpool(OT_FLOAT, &w, NC, x, y, NULL, false); /* fast */
    ot_cpu_maxpool(OT_FLOAT, &w, NC, x, yg, ind, false); /* generic (Indices requested) */
    int same = 1;
    for (int64_t i = 0; i < m; i++) same &= (isnan(y[i]) && isnan(yg[i])) || y[i] == yg[i];
    CHECK_MSG(same, "forward differs from the generic kernel (NC %lld, H %lld, W %lld)", (long long)NC, (long long)H,
              (long long)W);
    /* The generic forward's Indices are the gradient's routing. */
    for (int64_t i = 0; i < m; i++)
        if (ind[i] >= 0) ref[ind[i]] += dy[i];
    memset(dx, 0x7f, sizeof(float) * (size_t)n); /* every element must be written */
    ot_cpu_maxpool_grad(OT_FLOAT, &w, NC, x, dy, dx);
    same = 1;
    for (int64_t i = 0; i < n; i++) same &= dx[i] == ref[i];
    CHECK_MSG(same, "gradient differs from the Indices routing (NC %lld, H %lld, W %lld)", (long long)NC, (long long)H,
              (long long)W);
    free(x), free(y), free(yg), free(dy), free(dx), free(ref), free(ind);
}

int main(void) {
    case_run(3, 6, 8, 1);
    case_run(2, 7, 9, 2);    /* odd: the last row and column are in no window */
    case_run(64, 24, 24, 3); /* large enough for the threaded loop */
    case_run(1, 2, 2, 4);
    case_run(1, 3, 5, 5);    /* one window row, odd width */
    return check_done();
}
