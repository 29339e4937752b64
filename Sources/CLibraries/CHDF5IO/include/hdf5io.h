// A small C facade over libhdf5 for the OfflineRL layer. HDF5's type and property-list "constants"
// are macros over library globals that do not import into Swift, so every call that needs one lives
// here. All functions return a negative value on failure; pd_h5_last_error() then says why.
#ifndef PD_HDF5IO_H
#define PD_HDF5IO_H
#include <stddef.h>
#include <stdint.h>

#define PD_H5_MAX_RANK 8

// Element kinds as stored in the file.
enum {
    PD_H5_FLOAT = 0,   // IEEE float (any width)
    PD_H5_INT = 1,     // signed integer
    PD_H5_UINT = 2,    // unsigned integer
    PD_H5_BOOL = 3,    // h5py's bool: an enum {FALSE=0, TRUE=1} over int8
    PD_H5_OTHER = 4    // strings, compounds, …: not numeric
};

// Writable element types.
enum { PD_H5_WRITE_F32 = 0, PD_H5_WRITE_F64 = 1, PD_H5_WRITE_BOOL = 2, PD_H5_WRITE_I64 = 3 };

// 1 if `path` is an HDF5 file, 0 if not, negative if it cannot be read.
int pd_h5_is_hdf5(const char *path);
// Opens for reading (write = 0) or creates/truncates with library-version bounds earliest..v110 (write = 1).
int64_t pd_h5_open(const char *path, int write);
int pd_h5_close(int64_t file);

// Every dataset path in the file (recursively, e.g. "infos/goal"), '\n'-separated, NUL-terminated.
// Returns the number of bytes needed (excluding NUL); writes at most cap bytes.
int64_t pd_h5_list_datasets(int64_t file, char *buffer, size_t cap);

// Rank, dims, kind (PD_H5_*) and element size in bytes of a dataset.
int pd_h5_dataset_info(int64_t file, const char *name, int *rank, int64_t *dims, int *kind, int *size);

// Reads a whole numeric dataset converted to float32 / float64 (bools as 0/1).
int pd_h5_read_f32(int64_t file, const char *name, float *out);
int pd_h5_read_f64(int64_t file, const char *name, double *out);

// Writes a dataset (creating intermediate groups); `type` is PD_H5_WRITE_*; gzip 0..9 (0: contiguous).
int pd_h5_write(int64_t file, const char *name, int rank, const int64_t *dims, int type, const void *data, int gzip);

// String attributes on the root group ("/"): the dataset's provenance (env, quality, command).
int pd_h5_write_attr(int64_t file, const char *key, const char *value);
// Names of the root's attributes, '\n'-separated; same return convention as pd_h5_list_datasets.
int64_t pd_h5_list_attrs(int64_t file, char *buffer, size_t cap);
// Reads a string attribute of the root into buffer; returns the length needed (excluding NUL).
int64_t pd_h5_read_attr(int64_t file, const char *key, char *buffer, size_t cap);

// Debian's libhdf5 1.10.8 itself crashes on some malformed files (Tests/OfflineRLTests/Fixtures/libhdf5-crashes).
// Before a file is read in this process, a forked child makes the same calls HDF5.read makes, in the same order
// (datasets of at most max_bytes as float32), and exits. Returns 0 when the child finished (its result, error or
// not, is what the read in this process will meet) or could not be started; 1 when it died, with how in `why`.
// PD_HDF5_IN_PROCESS=1 skips the child (the libFuzzer build, whose coverage it would hide).
int pd_h5_read_survives(const char *path, int64_t max_bytes, char *why, size_t cap);

// The innermost message of the last HDF5 error on this thread ("" if none).
const char *pd_h5_last_error(void);

#endif
