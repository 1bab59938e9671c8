quant status --frob
