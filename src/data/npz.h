/* NumPy .npz archives (np.savez / np.savez_compressed): a zip file of .npy
 * entries, stored (method 0) or deflated (method 8), with ZIP64 extensions for
 * big arrays.  Entries are located through the central directory, read one at
 * a time straight into the tensor (deflated ones inflated on the fly), and
 * their CRC-32 is checked. */
#ifndef OT_DATA_NPZ_H
#define OT_DATA_NPZ_H

#include "../core/tensor.h"

typedef struct ot_npz ot_npz;

ot_status ot_npz_open(const char *path, ot_npz **out);
int ot_npz_count(const ot_npz *z);
/* Entry i's array name: the member name without its ".npy" suffix. */
const char *ot_npz_name(const ot_npz *z, int i);
/* Index of the entry named `name` (as ot_npz_name gives it), or -1. */
int ot_npz_find(const ot_npz *z, const char *name);
/* Reads entry i into a new tensor named after the entry. */
ot_status ot_npz_read(ot_npz *z, int i, ot_tensor **out);
void ot_npz_close(ot_npz *z);

#endif
