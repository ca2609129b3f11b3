/* The trainer's internals: the parameter store, the compiled training and
 * evaluation programs (one per input shape), and the step loop's state. */
#ifndef OT_TRAIN_TRAINER_H
#define OT_TRAIN_TRAINER_H

#include "../onnx/model.h"
#include "../passes/recompute.h"
#include "../runtime/program.h"
#include "fingerprint.h"
#include "lr_schedule.h"
#include "optim_config.h"

typedef enum ot_param_kind {
    OT_PARAM_TRAINABLE = 0,
    OT_PARAM_BN_STAT,       /* BatchNorm running mean/var: state, not optimized */
    OT_PARAM_NO_GRAD        /* looked trainable, but autodiff found no gradient path to the loss */
} ot_param_kind;

/* One persistent tensor shared by every compiled program. */
typedef struct ot_param {
    const char *name;     /* the model value's name (owned by the model) */
    int value;            /* value id in the model graph */
    ot_param_kind kind;
    ot_tensor *data;      /* current value (owned) */
    ot_tensor *grad;      /* accumulated gradient (owned, trainable only) */
    ot_tensor *state[OT_OPTIM_MAX_STATE];
    bool got_grad;        /* a gradient reached it since the last update */
    int64_t steps;        /* optimizer steps applied to it (PyTorch's per-parameter state['step']) */
} ot_param;

/* A BatchNormalization node whose running statistics the trainer updates. */
typedef struct ot_bn_link {
    int node;             /* model graph node */
    int mean, var;        /* param indices */
    float momentum;       /* ONNX momentum (= 1 - PyTorch momentum) */
} ot_bn_link;

typedef struct ot_train_program {
    bool eval;
    ot_graph *g;          /* the derived graph (owned) */
    ot_program *prog;
    int n_bound;          /* features..., labels[, seed] */
    ot_tensor *bound;     /* dtype/shape of each bound input, for matching */
    int loss;             /* value id of the scalar loss */
    int output;           /* value id of the output the loss applies to */
    int class_axis;       /* cross-entropy: class axis of `output`, else -1 */
    int *grad_of;         /* per param: gradient value id or -1 */
    int *bn_mean_out, *bn_var_out; /* per bn link: updated statistics (ONNX formula) or -1 */
    int64_t *bn_count;    /* per bn link: elements per channel in the batch */
    int unfused_nodes;    /* nodes of g before fusion (src/passes/fuse.h) */
    ot_recompute_report recompute; /* --recompute (src/passes/recompute.h) */
    /* The optimizer step inside the program (optim_graph.c): OptimizerUpdate
       nodes update the parameters as their gradients complete, and the
       gradients are not outputs.  The trainer fills upd_steps and binds the
       lr before each run. */
    bool updates;
    int lr_input;         /* value id of the lr graph input (bound after the loss seed) */
    int n_updated;        /* parameters the program updates */
    int *upd_param;       /* [n_updated] param index, in the order of upd_steps */
    int64_t *upd_steps;   /* [n_updated] 1-based step of each: the bytes of the steps initializers */
    int *upd_state;       /* [n_updated * OT_OPTIM_MAX_STATE] state initializer value ids, -1 unused */
    int n_update_nodes;   /* OptimizerUpdate nodes (groups) */
} ot_train_program;

#define OT_TRAIN_PROGRAMS 8

struct ot_trainer {
    ot_model *model;
    char model_id[OT_MODEL_ID_SIZE]; /* fingerprint of the model as given, for checkpoints */
    ot_train_options o;
    ot_optim_config optim;
    ot_lr_schedule sched;
    int n_params;
    ot_param *params;
    const char **reasons;  /* per model initializer */
    int n_bn;
    ot_bn_link *bn;
    bool *is_mutable;      /* per model value id: a param slot */
    int n_programs;
    ot_train_program *programs[OT_TRAIN_PROGRAMS];
    ot_arena_share arena;  /* every program's transient memory: one at a time runs */
    int64_t steps;         /* optimizer steps done */
    bool pending;          /* gradients accumulated since the last update */
    /* The update inside the training program: used by a micro-batch of
       scale 1 that starts a group (nothing pending) when there is no
       gradient clipping, since such a micro-batch is the whole group. */
    bool no_graph_update;  /* internal switch (tests): always the separate update path */
    bool no_schedule;      /* internal switch (tests): compile in the graph's order */
    bool applied;          /* the pending micro-batch's update already ran in the program */
    double applied_lr;     /* its learning rate */
};

/* train_graph.c: derives (and compiles) the program for a binding;
   `updates`: with the optimizer update inside (training only). */
ot_status ot_train_program_build(ot_trainer *t, ot_tensor *const *bound, bool eval, bool updates, ot_train_program **out);
void ot_train_program_free(ot_train_program *p);
bool ot_train_program_matches(const ot_train_program *p, ot_tensor *const *bound, bool eval, bool updates);

/* optim_graph.c: appends the OptimizerUpdate nodes to p->g (after autodiff
   and fusion), their lr input and steps/state initializers (marked in
   *mutable_values, which grows with the graph's values), and drops the
   gradients from the outputs. */
ot_status ot_train_attach_updates(ot_trainer *t, ot_train_program *p, bool **mutable_values);
/* Before a run of an updating program: each parameter's step, and its
   state tensors' bytes in the program (a checkpoint may have replaced them). */
ot_status ot_train_prepare_updates(ot_trainer *t, ot_train_program *p);

/* trainer.c: the cached program for a binding (features, labels): for
   training, the one a step of ot_trainer_step runs (the update inside
   unless clipping or no_graph_update). */
ot_status ot_trainer_program(ot_trainer *t, ot_tensor *const *bound, bool eval, ot_train_program **out);
/* The same, choosing whether the update runs inside. */
ot_status ot_trainer_program_mode(ot_trainer *t, ot_tensor *const *bound, bool eval, bool updates, ot_train_program **out);
/* True when training programs may run the update inside (no clipping). */
bool ot_trainer_updates_in_graph(const ot_trainer *t);
/* Creates parameter k's optimizer state at its initial values if missing
   (PyTorch creates it at the parameter's first step). */
ot_status ot_trainer_ensure_state(ot_trainer *t, int k);

/* examples.c: valid synthetic inputs for `batch` samples: features (floats
   random normal; integer inputs feeding a Gather within its axis size) then
   the labels.  Symbolic dims other than the first are taken as 1 unless
   named in dim_names/dim_values.  *n receives the count; free each tensor. */
ot_status ot_trainer_example_inputs(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                    const int64_t *dim_values, ot_tensor **out, int *n);

/* loss.c: appends the loss to g (annotated) for output value `out` and
   labels value `labels` (-1 for OT_LOSS_OUTPUT); *class_axis receives the
   cross-entropy class axis (else -1). */
ot_status ot_loss_attach(ot_graph *g, const ot_train_options *o, int out, int labels, int *loss, int *class_axis);
/* The graph output the loss applies to (or that is the loss). */
ot_status ot_loss_output(const ot_graph *g, const ot_train_options *o, int *out);

/* trainable.c: classifies the model's float initializers. */
ot_status ot_trainer_collect_params(ot_trainer *t);

#endif
