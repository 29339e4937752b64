#!/usr/bin/env bash
# Installs the system libraries PolicyDiffusion links (Debian/Ubuntu). Idempotent: installs only
# what is missing, and runs `apt-get update` only when something must be installed.
# Optional: PD_SETUP_PYTHON=1 also pip-installs the Python packages the interop tests use
# (numpy, safetensors, h5py) — test tools only, never runtime dependencies. PD_SETUP_MPI=1 also
# installs Open MPI (mpirun and libmpi, loaded at run time by --distributed; docs/distributed.md).
set -euo pipefail
packages=(libopenblas-dev libfftw3-dev libhdf5-dev zlib1g-dev libmujoco-dev pkg-config)
[ "${PD_SETUP_MPI:-0}" = "1" ] && packages+=(openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${PD_SETUP_PYTHON:-0}" = "1" ] && command -v python3 >/dev/null; then
  python3 -c "import numpy, safetensors, h5py" 2>/dev/null || \
    python3 -m pip install -q --disable-pip-version-check numpy safetensors h5py 2>/dev/null || \
    echo "setup: could not pip-install numpy/safetensors/h5py; the Python interop tests will be skipped"
fi
echo "setup: system libraries present (${packages[*]})"
