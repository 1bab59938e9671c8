# An option at the end of the line, without its value.
quant labels --horizon
