# Listing an empty registry must not create a store: ls shows the home empty.
quant symbols list
ls -A
