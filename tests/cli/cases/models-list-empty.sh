# The model registry, empty, on an initialised home.
quant init-db >/dev/null
quant models list
