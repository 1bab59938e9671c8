# init-db creates both stores; status then has no symbols to show.
quant init-db
quant status
ls -A
