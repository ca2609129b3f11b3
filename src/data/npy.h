/* NumPy .npy files: read (format 1.0/2.0/3.0) and write (1.0, or 2.0 for long
 * headers).  ot_tensor_save_npy (include/onnxtrain.h) is implemented here.
 *
 * Readers treat every file as untrusted: the header dict is parsed by a small
 * strict parser, shapes are overflow-checked, and the data length is checked
 * against the shape before it is read, so garbage is an OT_ERR_PARSE naming
 * the file, never a crash or a huge allocation the file cannot back. */
#ifndef OT_DATA_NPY_H
#define OT_DATA_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/tensor.h"

/* A byte source for the reader: read() fills up to n bytes of buf and returns
   how many it produced (0 at the end); on failure it sets *err (a status with
   its message already set) and returns 0.  `size` is the number of bytes the
   source holds when known (UINT64_MAX otherwise): it lets the reader reject a
   truncated file before allocating the array. */
typedef struct ot_byte_source {
    size_t (*read)(void *ctx, void *buf, size_t n, ot_status *err);
    void *ctx;
    uint64_t size;
} ot_byte_source;

/* Reads one .npy document from `src`; `what` names it in messages (a path, or
   "archive.npz:entry").  Big-endian data is byte-swapped and Fortran-ordered
   data is transposed to C order. */
ot_status ot_npy_read_source(ot_byte_source *src, const char *what, ot_tensor **out);
ot_status ot_npy_read(const char *path, ot_tensor **out);
ot_status ot_npy_read_buffer(const void *buf, size_t n, const char *what, ot_tensor **out);

/* The complete .npy encoding of t (header and data) in a new buffer (ot_free). */
ot_status ot_npy_encode(const ot_tensor *t, void **buf, size_t *n);

/* The .npy type descriptor of a dtype ("<f4", "|b1", ...), or NULL. */
const char *ot_npy_descr(ot_dtype dt);

/* The preamble and header dict exactly as numpy writes them for a C-ordered
   array of type `descr` and shape (rank, dims): format 1.0 (2.0 only when the
   dict outgrows 1.0's 16-bit length), padded so the data starts at a multiple
   of 64 bytes.  Writes *n bytes to buf (cap bytes; 1024 holds any rank). */
ot_status ot_npy_header(const char *descr, int rank, const int64_t *dims, char *buf, size_t cap, size_t *n);

#endif
