# Shared by the experiment scripts (sourced, not run). experiment_binary: a private copy of the
# release `diffuse` in $WORK, so rebuilds during a long run cannot change the binary it uses; sets D.
# DIFFUSE=path copies an already built binary instead of building one.
experiment_binary() {
  mkdir -p "$WORK"
  if [ ! -x "$WORK/diffuse" ]; then
    if [ -z "${DIFFUSE:-}" ]; then swift build -c release --product diffuse; DIFFUSE=.build/release/diffuse; fi
    cp "$DIFFUSE" "$WORK/diffuse"
  fi
  D="$WORK/diffuse"
}
