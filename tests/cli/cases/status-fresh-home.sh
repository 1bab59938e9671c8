# status before init-db says what to run first, and creates nothing.
quant status || status=$?
ls -A
exit ${status:-0}
