quant frobnicate
