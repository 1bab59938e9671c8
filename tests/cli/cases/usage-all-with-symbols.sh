# --all and a symbol list contradict each other.
quant features --all --symbols AAA
