/* Embedding onnxtrain: load a model, train it on data the application
 * produces, check it learned, save the trained model.  Uses only the public
 * header.  Usage: train_embedded MODEL.onnx OUT.onnx
 *
 * The model must map (N, 20) float inputs to (N, 5) logits (for example
 * tests/parity/mlp_adam/model.onnx).  The data is a toy task the
 * application knows the answer to: the label is the index of the largest of
 * the first five features. */
#include <stdio.h>
#include <stdlib.h>

#include "onnxtrain.h"

#define CHECK(call)                                                                    \
    do {                                                                               \
        ot_status s_ = (call);                                                         \
        if (s_ != OT_OK) {                                                             \
            fprintf(stderr, "%s failed: %s: %s\n", #call, ot_status_name(s_), ot_last_error()); \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

static void make_batch(ot_tensor *x, ot_tensor *y, unsigned *seed) {
    float *xs = ot_tensor_data(x);
    int64_t *ys = ot_tensor_data(y);
    int64_t n = ot_tensor_dims(x)[0];
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int j = 0; j < 20; j++) {
            *seed = *seed * 1103515245u + 12345u;
            xs[i * 20 + j] = (float)((*seed >> 8) % 2000) / 1000.0f - 1.0f;
            if (j < 5 && xs[i * 20 + j] > xs[i * 20 + best]) best = j;
        }
        ys[i] = best;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.onnx OUT.onnx\n", argv[0]);
        return 2;
    }
    ot_model *model;
    CHECK(ot_model_load(argv[1], &model));

    ot_train_options opt;
    ot_train_options_init(&opt); /* cross-entropy, Adam with PyTorch's defaults */
    opt.lr = 0.01;
    ot_trainer *trainer;
    CHECK(ot_trainer_create(model, &opt, &trainer));

    int64_t xdims[2] = {32, 20}, ydims[1] = {32};
    ot_tensor *x, *y;
    CHECK(ot_tensor_create(OT_FLOAT, 2, xdims, &x));
    CHECK(ot_tensor_create(OT_INT64, 1, ydims, &y));
    const char *names[2] = {"input", "labels"};
    ot_tensor *batch[2] = {x, y};
    unsigned seed = 42;
    double loss = 0, first = 0;
    for (int step = 0; step < 300; step++) {
        make_batch(x, y, &seed);
        CHECK(ot_trainer_step(trainer, 2, names, batch, &loss));
        if (step == 0) first = loss;
    }
    double eval_loss;
    int64_t correct, counted;
    make_batch(x, y, &seed);
    CHECK(ot_trainer_evaluate(trainer, 2, names, batch, &eval_loss, &correct, &counted));
    printf("loss %.4f -> %.4f, held-out accuracy %lld/%lld\n", first, loss, (long long)correct, (long long)counted);

    CHECK(ot_trainer_export(trainer));
    CHECK(ot_model_save(model, argv[2], NULL));
    ot_trainer_free(trainer);
    ot_tensor_free(x);
    ot_tensor_free(y);
    ot_model_free(model);
    /* The toy task is easy: a model that did not learn fails here. */
    return correct * 10 >= counted * 7 ? 0 : 1;
}
