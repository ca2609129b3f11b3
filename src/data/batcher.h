/* Mini-batches from an ot_dataset: shuffling, dtype conversion, reshaping to
 * the model's per-sample shape, and prefetching on a background thread.
 *
 * Order.  Epoch e visits the samples in the order of a Fisher-Yates
 * permutation drawn from the counter-based generator keyed by (seed, e)
 * (src/core/rng.h); without shuffling, in file order.  The order is a pure
 * function of (seed, epoch), so it never depends on threads, and a
 * checkpoint restores it exactly from ot_batcher_state.  The last partial
 * batch of an epoch is returned (PyTorch's drop_last=False) unless drop_last.
 *
 * Checks.  Everything that can be wrong with the data is checked once, when
 * the batcher is created, so that training never stops half-way through an
 * epoch: per-sample element counts against the model's shape, NaN/Inf in
 * float data, labels outside [0, n_classes), fractional or out-of-range
 * values converted to an integer type.  Errors name the file, the array and
 * the sample (0-based index in file order; CSV data rows are also given).
 *
 * Prefetch.  Two buffers of batch_size rows per binding are allocated once; a
 * background thread fills one while the caller uses the other, so a step
 * never waits for data it could have had and steady state allocates nothing. */
#ifndef OT_DATA_BATCHER_H
#define OT_DATA_BATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"

/* One batch tensor: which dataset array fills it and what the model expects. */
typedef struct ot_batch_binding {
    const char *array;  /* dataset array name */
    const char *target; /* what it feeds, for messages ("input 'x'", "labels"); NULL: the array name */
    ot_dtype dtype;     /* element type of the batch tensor; OT_UNDEFINED: the array's own */
    int rank;           /* per-sample rank (the model input's rank - 1); -1: the array's sample shape */
    int64_t dims[OT_MAX_RANK]; /* per-sample dims; -1 (symbolic) entries come from the data */
    /* Integer-valued targets only: n_classes > 0 requires every value in
       [0, n_classes), except ignore_index when has_ignore_index. */
    int64_t n_classes;
    bool has_ignore_index;
    int64_t ignore_index;
} ot_batch_binding;

typedef struct ot_batcher_state {
    int64_t epoch;  /* epochs completed before the next batch */
    int64_t cursor; /* samples of that epoch already returned */
    uint64_t seed;
} ot_batcher_state;

typedef struct ot_batcher ot_batcher;

/* `ds` must outlive the batcher and stay unchanged.  bindings (n of them) are
   copied.  Fails when a binding names no array, when a sample's element count
   differs from the per-sample shape, or when a value fails the checks above. */
ot_status ot_batcher_create(const ot_dataset *ds, const ot_batch_binding *bindings, int n, int64_t batch_size,
                            bool shuffle, bool drop_last, uint64_t seed, ot_batcher **out);
/* Stops the prefetch thread (also mid-epoch) and frees the buffers. */
void ot_batcher_free(ot_batcher *b);

/* The next batch: *batch receives n tensors, in binding order, owned by the
   batcher and valid until the next call (or set_state / free); each has
   dims[0] == *rows (< batch_size only for an epoch's last batch).
   *epoch_end is true for the last batch of an epoch; the call after it starts
   the next epoch (a new permutation).  epoch_end may be NULL. */
ot_status ot_batcher_next(ot_batcher *b, ot_tensor ***batch, int64_t *rows, bool *epoch_end);

/* The position of the next batch (after the last one returned).  After an
   epoch's last batch it is {epoch + 1, 0}. */
ot_batcher_state ot_batcher_get_state(const ot_batcher *b);
/* Resumes at `st`; the next batch starts at sample st.cursor of epoch
   st.epoch's order (re-derived from st.seed).  A cursor that leaves no batch
   in the epoch moves to the next epoch's start.  Invalidates the last batch. */
ot_status ot_batcher_set_state(ot_batcher *b, const ot_batcher_state *st);

int64_t ot_batcher_batches_per_epoch(const ot_batcher *b);
int64_t ot_batcher_samples(const ot_batcher *b);

/* The permutation of epoch `epoch` for n samples, as the batcher draws it:
   order[k] = file index of the k-th sample. */
void ot_batcher_permutation(uint64_t seed, int64_t epoch, int64_t n, int64_t *order);

#endif
