// HDF5 (serial). Flags come from pkg-config (`hdf5.pc`, which Debian's libhdf5-dev provides).
#include <hdf5.h>
