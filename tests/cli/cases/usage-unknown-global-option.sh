quant --frob status
