// zlib (Debian: zlib1g-dev): raw inflate/deflate and CRC-32 for NPZ archives.
#include <zlib.h>
