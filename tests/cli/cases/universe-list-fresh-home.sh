# Listing universes on a fresh home is a read: it answers and creates no store
# (ls shows the home empty); showing one says there are none yet.
quant universe list
ls -A
quant universe show sp-demo || status=$?
ls -A
exit ${status:-0}
