/* Training test cases on disk (tests/parity/<case>/: model.onnx, input.npy,
 * labels.npy, config.txt), shared by the parity, planner, scheduler and
 * no-allocation tests. */
#ifndef OT_TESTS_TRAIN_CASE_H
#define OT_TESTS_TRAIN_CASE_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "onnxtrain.h"
#include "src/core/dtype.h"
#include "src/core/tensor.h"

/* Rows [start, start + rows) of t, sharing its data (a batch view: never freed). */
static inline ot_tensor rows_of(const ot_tensor *t, int64_t start, int64_t rows) {
    ot_tensor v = *t;
    int64_t row = ot_tensor_numel(t) / t->dims[0];
    v.dims[0] = rows;
    v.data = (char *)t->data + (size_t)(start * row) * ot_dtype_size(t->dtype);
    v.owns = false;
    v.name = NULL;
    return v;
}

/* Loads dir/model.onnx into *m, dir/input.npy into *x and dir/labels.npy into
   *y, skipping those passed as NULL; stops at the first failure. */
static inline ot_status load_train_case(const char *dir, ot_model **m, ot_tensor **x, ot_tensor **y) {
    char path[512];
    ot_status s = OT_OK;
    if (m) {
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        s = ot_model_load(path, m);
    }
    if (x && !s) {
        snprintf(path, sizeof path, "%s/input.npy", dir);
        s = ot_tensor_load(path, x);
    }
    if (y && !s) {
        snprintf(path, sizeof path, "%s/labels.npy", dir);
        s = ot_tensor_load(path, y);
    }
    return s;
}

/* The case folders under ./parity as "parity/<case>", in readdir order;
   returns how many (at most cap), -1 when ./parity cannot be opened. */
static inline int list_parity_cases(char (*names)[256], int cap) {
    DIR *d = opendir("parity");
    if (!d) return -1;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) && n < cap)
        if (e->d_name[0] != '.' && !strchr(e->d_name, '.')) snprintf(names[n++], 256, "parity/%s", e->d_name);
    closedir(d);
    return n;
}

#endif
