/* `onnxtrain eval MODEL --data ...`: loss and accuracy over a data set in
 * inference mode (PyTorch's model.eval(): BatchNorm running statistics,
 * Dropout off). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

static const char eval_help[] =
    "usage: onnxtrain eval MODEL --data SPEC... [--loss L] [--metric accuracy|loss]\n"
    "                            [--batch-size N] [--json] [options]\n"
    "\n"
    "Evaluate the model on every sample of the data, in inference mode (BatchNorm\n"
    "uses its running statistics, Dropout is off, whatever the graph says), and\n"
    "print the mean loss and, for cross-entropy, the arg-max accuracy:\n"
    "  accuracy: 0.912300\n"
    "  loss: 0.3121\n"
    "\n"
    "options:\n"
    "  --data SPEC              FILE.npz or NAME=FILE (.npy, IDX, CSV); repeat\n"
    "  --loss L                 cross-entropy (default), mse, bce-logits, l1, output:NAME\n"
    "  --metric M               print only accuracy (cross-entropy) or only loss\n"
    "                           (default: both; accuracy only for cross-entropy)\n"
    "  --batch-size N           samples per batch (default 32; results do not depend\n"
    "                           on it)\n"
    "  --labels NAME            the labels array (default labels)\n"
    "  --output NAME            the graph output the loss applies to (default: first)\n"
    "  --class-axis K           cross-entropy class axis when the shapes leave a choice\n"
    "  --ignore-index I         cross-entropy: targets equal to I are skipped (-100)\n"
    "  --input-scale F          integer data fed to float inputs is multiplied by F\n"
    "  --csv-delimiter C        CSV field separator (default ',')\n"
    "  --label-column COL       CSV label column (default: label, else the last)\n"
    "  --json                   print one JSON object: {\"accuracy\": X, \"loss\": Y,\n"
    "                           \"samples\": N} (keys as --metric selects)\n"
    "  --threads N              threads (default 0: one per core)\n"
    "  --no-fuse                compile without fusion (for comparison)\n"
    "  -q, --quiet              no warnings\n"
    "  -h, --help               show this help\n"
    "\n"
    "The loss is the mean over samples (cross-entropy: over the targets not equal\n"
    "to --ignore-index), whatever the batch size.\n"
    "exit status: 0 success, 1 the evaluation failed, 2 bad command line\n";

static int eval_main(int argc, char **argv) {
    cli_train_cfg c;
    int rc = cli_train_parse(CLI_MODE_EVAL, &cli_cmd_eval, argc, argv, &c);
    if (rc) {
        cli_train_cfg_free(&c);
        return rc < 0 ? CLI_OK : rc;
    }
    ot_model *m = NULL;
    ot_dataset *ds = NULL;
    ot_batcher *b = NULL;
    ot_trainer *t = NULL;
    cli_binding bd = {0};
    cli_eval_result ev;
    if (ot_model_load(c.model, &m) != OT_OK) rc = cli_fail_lib();
    if (!rc) rc = cli_data_load(&c, "--data", c.data, c.n_data, &ds);
    if (!rc) rc = cli_data_bind(&c, m, ds, "--data", &bd);
    if (!rc && ot_batcher_open(ds, bd.bind, bd.n, c.batch_size, 0, 0, 0, &b) != OT_OK)
        rc = cli_fail("--data: %s", ot_last_error());
    if (!rc) {
        ot_status s = ot_trainer_create(m, &c.o, &t);
        if (s != OT_OK) rc = cli_trainer_create_failed(&c, s);
    }
    if (!rc) rc = cli_evaluate(t, b, &bd, &ev);
    if (!rc) {
        bool want_acc = ev.has_accuracy && (!c.metric || !strcmp(c.metric, "accuracy"));
        bool want_loss = !c.metric || !strcmp(c.metric, "loss");
        if (want_acc && !isfinite(ev.accuracy)) want_acc = false;
        if (c.json) {
            const char *sep = "";
            printf("{");
            if (want_acc) printf("\"accuracy\": %.9g", ev.accuracy), sep = ", ";
            if (want_loss) printf("%s\"loss\": %.9g", sep, ev.loss), sep = ", ";
            printf("%s\"samples\": %lld}\n", sep, (long long)ev.samples);
        } else {
            if (want_acc) printf("accuracy: %.6f\n", ev.accuracy);
            if (want_loss) printf("loss: %.6g\n", ev.loss);
        }
    }
    ot_trainer_free(t);
    ot_batcher_free(b);
    cli_binding_free(&bd);
    ot_dataset_free(ds);
    ot_model_free(m);
    cli_train_cfg_free(&c);
    return rc;
}

const cli_command cli_cmd_eval = {
    .name = "eval",
    .summary = "loss and accuracy of a model on data files, in inference mode",
    .help = eval_help,
    .main = eval_main,
};
