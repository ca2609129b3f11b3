/* onnxtrain — train ONNX models in C.  The public API: the only installed header.
 *
 * Conventions
 *  - Every function returns an ot_status; OT_OK (0) is success.  On failure
 *    ot_last_error() returns a message (thread-local, valid until the next
 *    failing call on the same thread) naming the file, node or tensor involved.
 *  - Objects are opaque handles.  Whoever creates an object frees it with the
 *    matching *_free function; functions returning objects through an `out`
 *    pointer transfer ownership to the caller unless documented otherwise.
 *  - The library never prints, exits or aborts.
 *  - One session is used by one thread at a time; distinct sessions are
 *    independent.
 */
#ifndef ONNXTRAIN_H
#define ONNXTRAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define OT_API
#else
#define OT_API __attribute__((visibility("default")))
#endif

#define OT_VERSION_MAJOR 0
#define OT_VERSION_MINOR 1
#define OT_VERSION_PATCH 0

typedef enum ot_status {
    OT_OK = 0,
    OT_ERR_INVALID_ARG = 1, /* a caller passed a bad argument */
    OT_ERR_IO = 2,          /* a file could not be read or written */
    OT_ERR_PARSE = 3,       /* malformed model, tensor or data file */
    OT_ERR_UNSUPPORTED = 4, /* op, attribute, dtype or feature not supported */
    OT_ERR_SHAPE = 5,       /* shapes do not fit together */
    OT_ERR_TYPE = 6,        /* element types do not fit together */
    OT_ERR_NOMEM = 7,       /* allocation failed or a size overflowed */
    OT_ERR_NUMERIC = 8,     /* NaN/Inf where a finite value is required */
    OT_ERR_CANCELLED = 9,   /* ot_cancel was called */
    OT_ERR_INTERNAL = 10    /* a bug in onnxtrain: please report it */
} ot_status;

/* Element types; the numbers are ONNX's TensorProto.DataType values. */
typedef enum ot_dtype {
    OT_UNDEFINED = 0,
    OT_FLOAT = 1,
    OT_UINT8 = 2,
    OT_INT8 = 3,
    OT_UINT16 = 4,
    OT_INT16 = 5,
    OT_INT32 = 6,
    OT_INT64 = 7,
    OT_STRING = 8,
    OT_BOOL = 9,
    OT_FLOAT16 = 10,
    OT_DOUBLE = 11,
    OT_UINT32 = 12,
    OT_UINT64 = 13,
    OT_COMPLEX64 = 14,
    OT_COMPLEX128 = 15,
    OT_BFLOAT16 = 16,
    /* Low-precision types: one byte per element in memory (codes; int4/int2
       sign-extended), packed only in files (src/core/lowprec.h). */
    OT_FLOAT8E4M3FN = 17,
    OT_FLOAT8E4M3FNUZ = 18,
    OT_FLOAT8E5M2 = 19,
    OT_FLOAT8E5M2FNUZ = 20,
    OT_UINT4 = 21,
    OT_INT4 = 22,
    OT_FLOAT4E2M1 = 23,
    OT_FLOAT8E8M0 = 24,
    OT_UINT2 = 25,
    OT_INT2 = 26
} ot_dtype;

#define OT_MAX_RANK 8

typedef struct ot_model ot_model;
typedef struct ot_tensor ot_tensor;
typedef struct ot_session ot_session;

/* ---- library ---------------------------------------------------------- */
OT_API const char *ot_version(void);            /* "MAJOR.MINOR.PATCH" */
OT_API const char *ot_last_error(void);         /* message of the last failure on this thread */
OT_API const char *ot_status_name(ot_status s); /* "OT_ERR_PARSE", ... */
OT_API const char *ot_dtype_name(ot_dtype t);   /* "float32", "int64", ... */
OT_API size_t ot_dtype_size(ot_dtype t);        /* bytes per element in memory (1 for the low-precision types); 0 if not numeric */

/* ---- tensors (host memory) -------------------------------------------- */
/* A new zero-filled tensor.  dims may be NULL when rank is 0. */
OT_API ot_status ot_tensor_create(ot_dtype dtype, int rank, const int64_t *dims, ot_tensor **out);
OT_API void ot_tensor_free(ot_tensor *t);
OT_API ot_dtype ot_tensor_dtype(const ot_tensor *t);
OT_API int ot_tensor_rank(const ot_tensor *t);
OT_API const int64_t *ot_tensor_dims(const ot_tensor *t);
OT_API int64_t ot_tensor_numel(const ot_tensor *t);
OT_API void *ot_tensor_data(ot_tensor *t); /* rank 0: one element */
OT_API size_t ot_tensor_nbytes(const ot_tensor *t);
OT_API const char *ot_tensor_name(const ot_tensor *t); /* "" when unnamed */
/* Read a .npy file or a serialized ONNX TensorProto (.pb), chosen by content. */
OT_API ot_status ot_tensor_load(const char *path, ot_tensor **out);
OT_API ot_status ot_tensor_save_npy(const ot_tensor *t, const char *path);
/* Writes a TensorProto with the given name (may be NULL). */
OT_API ot_status ot_tensor_save_pb(const ot_tensor *t, const char *name, const char *path);

/* ---- models ------------------------------------------------------------ */
OT_API ot_status ot_model_load(const char *path, ot_model **out);
/* base_dir resolves external data paths; NULL means the current directory. */
OT_API ot_status ot_model_load_buffer(const void *data, size_t size, const char *base_dir,
                                      ot_model **out);
typedef struct ot_save_options {
    /* Initializers of at least this many bytes go to an external data file
       named "<model file name>.data" beside the model; 0 means never. */
    uint64_t external_threshold_bytes;
} ot_save_options;
/* options may be NULL (defaults: external data for tensors >= 1 GiB... see
   docs/c-api.md).  The write is atomic: a temporary file, fsync, rename. */
OT_API ot_status ot_model_save(const ot_model *m, const char *path, const ot_save_options *options);
OT_API void ot_model_free(ot_model *m);

/* Describes a graph input or output.  Strings are owned by the model. */
typedef struct ot_value_info {
    const char *name;
    ot_dtype dtype;
    int rank;                           /* -1: unknown */
    int64_t dims[OT_MAX_RANK];          /* -1: symbolic or unknown */
    const char *dim_names[OT_MAX_RANK]; /* symbolic name or NULL */
} ot_value_info;

OT_API int ot_model_input_count(const ot_model *m); /* initializers excluded */
OT_API int ot_model_output_count(const ot_model *m);
OT_API ot_status ot_model_input(const ot_model *m, int index, ot_value_info *out);
OT_API ot_status ot_model_output(const ot_model *m, int index, ot_value_info *out);

/* Model description, for tools such as `onnxtrain info`.  Strings are owned by the model. */
OT_API int64_t ot_model_ir_version(const ot_model *m);
OT_API const char *ot_model_producer_name(const ot_model *m);
OT_API const char *ot_model_producer_version(const ot_model *m);
OT_API int ot_model_opset_count(const ot_model *m);
/* domain "" is the default ONNX domain. */
OT_API ot_status ot_model_opset(const ot_model *m, int index, const char **domain, int64_t *version);
OT_API int ot_model_initializer_count(const ot_model *m);
OT_API ot_status ot_model_initializer(const ot_model *m, int index, ot_value_info *out);
OT_API int ot_model_node_count(const ot_model *m);
OT_API ot_status ot_model_node(const ot_model *m, int index, const char **op_type, const char **domain,
                               const char **name);
/* Node `index`'s input and output counts (absent optional ones included). */
OT_API ot_status ot_model_node_io(const ot_model *m, int index, int *n_in, int *n_out);
/* The name of node `index`'s input k (output k when `output` is non-zero);
   "" for an absent optional one, NULL when out of range. */
OT_API const char *ot_model_node_value(const ot_model *m, int index, int output, int k);
/* OT_OK when every op is supported; else OT_ERR_UNSUPPORTED with all of them listed. */
OT_API ot_status ot_model_check_supported(const ot_model *m);

/* ---- inference --------------------------------------------------------- */
typedef struct ot_session_options {
    int threads; /* 0: number of cores */
    int no_fuse; /* non-zero: run the graph without fusion (--no-fuse, for comparison) */
} ot_session_options;

OT_API ot_status ot_session_create(const ot_model *m, const ot_session_options *options,
                                   ot_session **out);
OT_API void ot_session_free(ot_session *s);
/* Runs the graph as written.  inputs[i] binds to graph input names[i]
   (names may be NULL: then inputs bind in graph-input order).  On success
   *outputs receives ot_model_output_count() new tensors, in graph-output
   order; free each with ot_tensor_free and the array with ot_free_array. */
OT_API ot_status ot_session_run(ot_session *s, int n_inputs, const char *const *names,
                                ot_tensor *const *inputs, ot_tensor ***outputs);
OT_API void ot_free_array(void *array);

/* ---- training ------------------------------------------------------------
 * A trainer owns the parameters (initialized from the model's initializers),
 * the optimizer state and one compiled training program per input shape.
 * Semantics follow PyTorch (docs/training.md). */
typedef struct ot_trainer ot_trainer;

typedef enum ot_loss_kind {
    OT_LOSS_CROSS_ENTROPY = 0, /* SoftmaxCrossEntropyLoss, mean over non-ignored targets */
    OT_LOSS_MSE,
    OT_LOSS_BCE_LOGITS,
    OT_LOSS_L1,
    OT_LOSS_OUTPUT             /* the graph output `loss_output` is the scalar loss */
} ot_loss_kind;

typedef enum ot_optimizer_kind {
    OT_OPTIM_SGD = 0,
    OT_OPTIM_MOMENTUM,
    OT_OPTIM_NESTEROV,
    OT_OPTIM_ADAM,
    OT_OPTIM_ADAMW,
    OT_OPTIM_ADAGRAD
} ot_optimizer_kind;

typedef enum ot_lr_schedule_kind {
    OT_LR_CONSTANT = 0,
    OT_LR_LINEAR,
    OT_LR_COSINE,
    OT_LR_STEP
} ot_lr_schedule_kind;

typedef struct ot_train_options {
    ot_loss_kind loss;
    const char *loss_output;  /* OT_LOSS_OUTPUT: name of the graph output holding the loss */
    const char *output;       /* graph output the loss applies to; NULL: the first */
    const char *labels;       /* name the labels are bound by in ot_trainer_step ("labels") */
    int class_axis;           /* cross-entropy class axis; -1: automatic (CONTRACTS.md) */
    int64_t ignore_index;     /* cross-entropy: targets equal to it are ignored (-100) */
    ot_optimizer_kind optimizer;
    /* NaN means "PyTorch's default for this optimizer" (ot_train_options_init sets NaN). */
    double lr, momentum, dampening, beta1, beta2, eps, weight_decay, lr_decay, initial_accumulator;
    ot_lr_schedule_kind schedule;
    int64_t warmup_steps, step_size, total_steps; /* total_steps: optimizer steps in the run */
    double min_lr, gamma;
    double clip_grad_norm;    /* 0: no clipping */
    const char *freeze;       /* comma-separated initializer names not to train */
    const char *trainable;    /* comma-separated names: train exactly these (NULL: default set) */
    uint64_t seed;            /* dropout */
    int threads;              /* 0: number of cores */
    int no_fuse;              /* non-zero: compile without fusion (--no-fuse, for comparison) */
    int recompute;            /* non-zero: recompute cheap activations (elementwise chains, norms) in the
                                 backward pass instead of keeping them (--recompute) */
} ot_train_options;

OT_API void ot_train_options_init(ot_train_options *o);
/* The trainer keeps a pointer to m: m must outlive it.  ot_trainer_export
   writes the trained values back into m. */
OT_API ot_status ot_trainer_create(ot_model *m, const ot_train_options *o, ot_trainer **out);
OT_API void ot_trainer_free(ot_trainer *t);
/* Forward + backward on one micro-batch: the model inputs and the labels (by
   name; names may be NULL for graph-input order followed by the labels).
   Gradients are scaled by `scale` (1/k for a group of k accumulated
   micro-batches) and added to the accumulated gradients.  *loss receives the
   unscaled mean batch loss, computed with the parameters before the update. */
OT_API ot_status ot_trainer_accumulate(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs,
                                       double scale, double *loss);
/* Applies one optimizer step with the accumulated gradients (clipping them
   first if configured), then clears them.  *lr receives the lr used. */
OT_API ot_status ot_trainer_update(ot_trainer *t, double *lr);
/* accumulate(scale 1) + update. */
OT_API ot_status ot_trainer_step(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs,
                                 double *loss);
/* Loss (and, when `correct` is non-NULL for cross-entropy, the number of
   correct arg-max predictions) on a batch in inference mode (BatchNorm uses
   running statistics, Dropout is off), without touching parameters. */
OT_API ot_status ot_trainer_evaluate(ot_trainer *t, int n, const char *const *names, ot_tensor *const *inputs,
                                     double *loss, int64_t *correct, int64_t *counted);
OT_API int64_t ot_trainer_steps_done(const ot_trainer *t);
/* Trainable parameters, in model initializer order. */
OT_API int ot_trainer_param_count(const ot_trainer *t);
OT_API const char *ot_trainer_param_name(const ot_trainer *t, int i);
/* Reads (copies out) or sets a parameter or BatchNorm statistic by name. */
OT_API ot_status ot_trainer_get_param(const ot_trainer *t, const char *name, ot_tensor **out);
OT_API ot_status ot_trainer_set_param(ot_trainer *t, const char *name, const ot_tensor *value);
/* Writes the trained parameters and BatchNorm statistics into the model and
   turns it into an inference graph (CONTRACTS.md: BatchNormalization without
   training_mode, Dropout off). */
OT_API ot_status ot_trainer_export(ot_trainer *t);
/* Why each float initializer is or is not trained: "trainable", "frozen",
   "batchnorm statistic", "non-finite values", "not on a path to the loss",
   "not listed in trainable".  i indexes the model's initializers. */
OT_API const char *ot_trainer_param_reason(const ot_trainer *t, int initializer_index);

/* Writes the derived training graph (forward, loss, backward; ai.onnxtrain
   ops for fused gradients) for `batch` samples as an ONNX file, for viewing
   (e.g. in Netron).  Symbolic dims other than the batch are 1 unless given
   in dim_names/dim_values (n_dims of them). */
OT_API ot_status ot_trainer_dump(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                 const int64_t *dim_values, const char *path);

/* ---- compiler reports and benchmarking ---------------------------------- */
/* Figures of the compiled training step for `batch` samples (CONTRACTS.md
   "Reports and memory figures"). */
typedef struct ot_plan_summary {
    int64_t ops;                /* nodes of the derived training graph (forward, loss, backward) */
    int64_t kernels;            /* kernel launches per step after fusion (optimizer updates included) */
    uint64_t arena_bytes;       /* the one arena holding every transient tensor */
    uint64_t lower_bound_bytes; /* max over the step of transient bytes live at once */
    uint64_t naive_bytes;       /* sum of all transient tensor sizes */
    uint64_t persistent_bytes;  /* parameters, BatchNorm statistics, optimizer state, gradients */
    double flops;               /* floating-point operations per step (2 per multiply-add) */
    int64_t recomputed_ops;     /* --recompute: forward nodes run again in the backward pass */
    uint64_t released_bytes;    /* --recompute: forward activations no longer kept for the backward pass */
    uint64_t unscheduled_peak_bytes; /* the lower bound with the steps in the graph's order: the peak
                                        without the memory-aware schedule */
} ot_plan_summary;

/* Compiles (or reuses) the training program for `batch` synthetic samples and
   reports its plan.  svg_path, when not NULL, receives a drawing of the
   buffers over time (x: kernel index, y: arena offset). */
OT_API ot_status ot_trainer_plan(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                 const int64_t *dim_values, const char *svg_path, ot_plan_summary *out);
/* Valid synthetic inputs for `batch` samples in binding order (the model's
   inputs, then the labels): floats random normal, integer inputs that feed a
   Gather within its axis, labels within the class count.  *inputs receives
   *n new tensors; free each and the array (ot_free_array). */
OT_API ot_status ot_trainer_example_batch(ot_trainer *t, int64_t batch, int n_dims, const char *const *dim_names,
                                          const int64_t *dim_values, ot_tensor ***inputs, int *n);
/* The same for inference: synthetic values for the model's inputs only (graph-input order). */
OT_API ot_status ot_model_example_inputs(const ot_model *m, int64_t batch, int n_dims, const char *const *dim_names,
                                         const int64_t *dim_values, ot_tensor ***inputs, int *n);
/* Figures of the inference program the last ot_session_run ran (compiled for
   its input shapes): ops (graph nodes), kernels, arena, lower bound, naive
   bytes, flops; persistent_bytes counts weights and folded constants.  OT_ERR_INVALID_ARG
   before the first run. */
OT_API ot_status ot_session_plan(const ot_session *s, ot_plan_summary *out);
/* The binding names of ot_trainer_example_batch's tensors (input names, then the labels name). */
OT_API const char *ot_trainer_binding_name(const ot_trainer *t, int i);

/* ---- checkpoints -----------------------------------------------------------
 * A checkpoint directory holds everything needed to continue as if never
 * stopped (CONTRACTS.md "Checkpoints"): parameters, BatchNorm statistics,
 * optimizer state and step counts, the model's identity, the training
 * configuration, and the caller's loop position.  Writes are atomic. */
typedef struct ot_loop_state {
    int64_t epoch;          /* epochs completed */
    int64_t cursor;         /* samples consumed in the current epoch */
    uint64_t data_seed;     /* shuffling seed */
    int64_t micro_batches;  /* micro-batches accumulated in the current group */
} ot_loop_state;

/* config: the caller's training configuration as "key=value" lines; a resume
   with a different configuration is refused, naming the first setting that
   differs (keys listed in `ignore_keys`, comma-separated, may differ: e.g.
   "epochs,steps,checkpoint-dir,log"). */
OT_API ot_status ot_trainer_save_checkpoint(const ot_trainer *t, const char *dir, const char *config,
                                            const ot_loop_state *loop);
OT_API ot_status ot_trainer_load_checkpoint(ot_trainer *t, const char *dir, const char *config,
                                            const char *ignore_keys, ot_loop_state *loop);

/* ---- data ------------------------------------------------------------------
 * Training data: named arrays that share their first dimension (the sample
 * count), read from .npy, .npz, IDX (raw or gzip) and CSV files
 * (docs/training.md "Data"), and a batcher that cuts them into mini-batches
 * typed and shaped for the model.  Everything that can be wrong with the data
 * (a sample of the wrong size, NaN or Inf, a label out of range) is reported
 * when the batcher is opened, naming the file, the array and the sample, so
 * training never stops half-way through an epoch because of the data. */
typedef struct ot_dataset ot_dataset;
typedef struct ot_batcher ot_batcher;

typedef struct ot_dataset_options {
    const char *labels;       /* name the labels are bound by; NULL: "labels" */
    char csv_delimiter;       /* 0: ',' (a .tsv file: tab) */
    const char *label_column; /* CSV label column, a name or an index (negative
                                 counts from the end); NULL: the column named
                                 "label", else the last one */
    double input_scale;       /* integer arrays fed to a float input are
                                 multiplied by it (1/255 for bytes); 0 means 1.
                                 Never applied to the labels. */
} ot_dataset_options;

OT_API ot_status ot_dataset_create(ot_dataset **out);
OT_API void ot_dataset_free(ot_dataset *ds);
/* Adds the arrays of one file, named as the CLI's --data argument does:
   "FILE.npz" adds every array of the archive under its own name;
   "NAME=FILE" adds one array from a .npy, IDX or CSV file (or the array NAME,
   or the only array, of an .npz).  A CSV file adds its label column under the
   labels name and the other columns, (rows, columns - 1) float32, as NAME.
   The format is told by content.  opt may be NULL. */
OT_API ot_status ot_dataset_load(ot_dataset *ds, const char *spec, const ot_dataset_options *opt);
OT_API int64_t ot_dataset_samples(const ot_dataset *ds); /* 0 while empty */
OT_API int ot_dataset_array_count(const ot_dataset *ds);
/* Array i (in the order added): name, element type and full shape, dims[0]
   being the sample count.  Strings are owned by ds. */
OT_API ot_status ot_dataset_array(const ot_dataset *ds, int i, ot_value_info *out);
/* The file array i came from. */
OT_API const char *ot_dataset_array_source(const ot_dataset *ds, int i);

/* One tensor of every batch: which array fills it, and what the model takes. */
typedef struct ot_data_binding {
    const char *array;  /* dataset array name */
    const char *target; /* what it feeds, for messages ("input 'x'"); NULL: the array name */
    ot_dtype dtype;     /* element type of the batch tensor; OT_UNDEFINED: the array's own.
                           Integer data fed as float is multiplied by the input scale. */
    int rank;           /* per-sample rank; -1: the array's own per-sample shape */
    int64_t dims[OT_MAX_RANK]; /* per-sample dims; -1 entries come from the data.  A sample
                                  is reshaped when the element counts agree. */
    int64_t n_classes;  /* > 0: every value must lie in [0, n_classes) ... */
    int has_ignore_index; /* ... except ignore_index when this is non-zero */
    int64_t ignore_index;
} ot_data_binding;

/* ds must outlive the batcher and stay unchanged; bindings are copied.
   shuffle: each epoch visits the samples in a fresh permutation that depends
   only on (seed, epoch); else in file order.  drop_last: skip an epoch's last
   partial batch (otherwise it is returned, as PyTorch's DataLoader does).
   A background thread prepares the next batch while the caller works. */
OT_API ot_status ot_batcher_open(const ot_dataset *ds, const ot_data_binding *bindings, int n, int64_t batch_size,
                                 int shuffle, int drop_last, uint64_t seed, ot_batcher **out);
OT_API void ot_batcher_free(ot_batcher *b);
/* The next batch: *batch receives n tensors in binding order, each named after
   its array, owned by the batcher and valid until the next call; dims[0] is
   *rows.  *epoch_end (may be NULL) is set non-zero for an epoch's last batch;
   the call after it starts the next epoch. */
OT_API ot_status ot_batcher_fetch(ot_batcher *b, ot_tensor ***batch, int64_t *rows, int *epoch_end);
/* The position of the next batch, for checkpoints: fills epoch (epochs
   completed), cursor (samples of the current epoch already returned) and
   data_seed; micro_batches is left as it was. */
OT_API void ot_batcher_get_position(const ot_batcher *b, ot_loop_state *pos);
/* Continues at pos (epoch, cursor, data_seed), as ot_trainer_load_checkpoint
   returns it: the next batch is the one that would have followed. */
OT_API ot_status ot_batcher_set_position(ot_batcher *b, const ot_loop_state *pos);
OT_API int64_t ot_batcher_batches_per_epoch(const ot_batcher *b);

#ifdef __cplusplus
}
#endif
#endif
