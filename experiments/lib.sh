# Shared by the experiment scripts (sourced, not run). experiment_binary: a private copy of the
# release `diffuse` in $WORK, so rebuilds during a long run cannot change the binary it uses; sets D.
experiment_binary() {
  mkdir -p "$WORK"
  if [ ! -x "$WORK/diffuse" ]; then
    swift build -c release --product diffuse
    cp .build/release/diffuse "$WORK/diffuse"
  fi
  D="$WORK/diffuse"
}
